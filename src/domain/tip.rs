//! Anti-fraud tips, one or more per scam type and language.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::keyword_enum::keyword_enum;
use super::text::bounded_text;
use super::{Actor, Language};

keyword_enum! {
    /// The kinds of fraud the tips library covers, after the Ministry of Public Security's
    /// list of the most common telecom and online scams.
    pub enum ScamType ("scam type") {
        /// 刷单返利: paid "likes", fake order brushing with rebates.
        OrderBrushing = "order_brushing",
        /// 虚假投资理财: fake investment and wealth management platforms.
        Investment = "investment",
        /// 虚假购物、服务: fake shops and services.
        Shopping = "shopping",
        /// 冒充电商物流客服: impersonated e-commerce or courier customer service.
        CustomerService = "customer_service",
        /// 虚假贷款: loans that first ask for fees.
        Loan = "loan",
        /// 虚假征信: fake credit-record repair.
        CreditRepair = "credit_repair",
        /// 冒充领导、熟人: impersonated bosses and acquaintances.
        Acquaintance = "acquaintance",
        /// 冒充公检法及政府机关: impersonated police, prosecutors and officials.
        Officials = "officials",
        /// 网络婚恋、交友: online romance ("pig butchering").
        Romance = "romance",
        /// 网络游戏产品虚假交易: fake game-item and account trades.
        GameTrade = "game_trade",
        /// 裸聊敲诈: sextortion after a video chat.
        Sextortion = "sextortion",
        /// 钓鱼短信、链接: phishing texts and links.
        Phishing = "phishing",
        /// 出租出借"两卡": renting out phone cards and bank cards to criminals.
        TwoCards = "two_cards",
        /// 机票退改签: fake flight cancellation and refund.
        TicketRefund = "ticket_refund",
    }
}

bounded_text!(TipTitle, "tip title", max = 200, Single);
bounded_text!(TipBody, "tip body", max = 3_000, Multi);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TipId(pub i64);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTip {
    pub scam_type: ScamType,
    pub language: Language,
    pub title: TipTitle,
    pub body: TipBody,
    /// Set for tips shipped with Pingan, so an upgrade can find its own tips again.
    pub builtin_key: Option<String>,
    pub author: Actor,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tip {
    pub id: TipId,
    pub scam_type: ScamType,
    pub language: Language,
    pub title: TipTitle,
    pub body: TipBody,
    pub builtin_key: Option<String>,
    /// Retired tips stay stored for the record but are never shown to citizens.
    pub retired: bool,
    /// The last editor to change it; `None` while it is as shipped or first written.
    pub edited_by: Option<Actor>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The tip for a local date: the same for everyone that day, rotating through the scam
/// types (and, over the weeks, through each type's tips). `tips` must come in a stable
/// order, as the store lists them.
pub fn tip_of_the_day(tips: &[Tip], date: NaiveDate) -> Option<&Tip> {
    let mut kinds: Vec<ScamType> = tips.iter().map(|t| t.scam_type).collect();
    kinds.sort();
    kinds.dedup();
    if kinds.is_empty() {
        return None;
    }
    let day = date.num_days_from_ce().unsigned_abs() as usize;
    let kind = kinds[day % kinds.len()];
    let of_kind: Vec<&Tip> = tips.iter().filter(|t| t.scam_type == kind).collect();
    of_kind.get((day / kinds.len()) % of_kind.len()).copied()
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn tip(id: i64, scam_type: ScamType) -> Tip {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        Tip {
            id: TipId(id),
            scam_type,
            language: Language::Zh,
            title: TipTitle::parse("t").unwrap(),
            body: TipBody::parse("b").unwrap(),
            builtin_key: None,
            retired: false,
            edited_by: None,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn the_tip_of_the_day_rotates_through_every_scam_type() {
        let tips = vec![
            tip(1, ScamType::Loan),
            tip(2, ScamType::Romance),
            tip(3, ScamType::Loan),
            tip(4, ScamType::Officials),
        ];
        let start = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        let kinds: Vec<ScamType> =
            (0..3).map(|d| tip_of_the_day(&tips, start + Duration::days(d)).unwrap().scam_type).collect();
        let mut seen = kinds.clone();
        seen.sort();
        assert_eq!(seen, [ScamType::Loan, ScamType::Officials, ScamType::Romance]);
        assert_eq!(tip_of_the_day(&tips, start), tip_of_the_day(&tips, start), "the same all day");
        let loans: Vec<TipId> = (0..12)
            .filter_map(|d| tip_of_the_day(&tips, start + Duration::days(d)))
            .filter(|t| t.scam_type == ScamType::Loan)
            .map(|t| t.id)
            .collect();
        assert!(loans.contains(&TipId(1)) && loans.contains(&TipId(3)), "both loan tips come round");
        assert_eq!(tip_of_the_day(&[], start), None);
    }
}
