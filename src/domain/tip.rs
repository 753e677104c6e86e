//! Anti-fraud tips, one or more per scam type and language.

use chrono::{DateTime, Utc};

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
