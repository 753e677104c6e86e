//! Stored phone numbers and links re-keyed when the rules that make their keys change.
//!
//! Indicators and report subjects are kept under a value's key: a number's E.164 form
//! (`+862155550000`), from libphonenumber's metadata and Pingan's reading of it
//! ([`PHONE_KEY_RULES`](crate::domain::check::PHONE_KEY_RULES)); a link's registrable
//! domain (`alipay.com`), from the Public Suffix List and IDNA
//! ([`LINK_KEY_RULES`](crate::domain::check::LINK_KEY_RULES)). Before those rules, `+86
//! (0)21 5555 0000` was kept as `+8602155550000`, and `scam.gitee.io` (a suffix the
//! hand-kept list had and the Public Suffix List has not) as itself: no spelling finds
//! either now. Migrating a database whose `data_versions` row for a kind's keys
//! (`phone_keys`, `link_keys`) names other rules (or none) reads every stored value of that
//! kind again, in one transaction, and moves it to its key now. When two entries of the
//! list meet under one key, the more serious risk is kept (fraud, then suspicious, then
//! official; the newer entry if equal), and the audit log says what became of each. A
//! value that no longer reads (`+999…`: no such country code) is left as it is and
//! counted; the log says how many, not which (report subjects come from citizens'
//! reports).

use chrono::{DateTime, Utc};

use crate::domain::check::{LINK_KEY_RULES, PHONE_KEY_RULES};
use crate::domain::{IndicatorKind, Risk, Subject};

/// The rules one kind of stored value is keyed by, and where the database records them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeyRules {
    pub(crate) kind: IndicatorKind,
    /// The `data_versions` row naming the rules the stored keys were made by.
    pub(crate) data_version: &'static str,
    /// The rules now.
    pub(crate) rules: &'static str,
    /// What a stored value that no longer reads is called in the audit log.
    pub(crate) unreadable: &'static str,
}

/// Phone numbers: libphonenumber's metadata and Pingan's reading of it.
pub(crate) const PHONE_KEYS: KeyRules = KeyRules {
    kind: IndicatorKind::Phone,
    data_version: "phone_keys",
    rules: PHONE_KEY_RULES,
    unreadable: "numbers",
};

/// Links: the Public Suffix List and IDNA.
pub(crate) const LINK_KEYS: KeyRules = KeyRules {
    kind: IndicatorKind::Domain,
    data_version: "link_keys",
    rules: LINK_KEY_RULES,
    unreadable: "links",
};

/// What a re-keying changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rekeyed {
    /// List entries moved to their key now (merged ones included).
    pub indicators: usize,
    /// List entries merged into another under the same key, and so removed.
    pub merged: usize,
    /// Report subjects moved to their key now.
    pub report_subjects: usize,
    /// Stored values (list entries and report subjects) that no longer read as values of
    /// their kind, left as they are.
    pub unreadable: usize,
}

/// The key a stored `value` of `kind` has now if it is another (`Ok(None)`: the same);
/// `Err` if it no longer reads as a value of that kind.
pub(crate) fn new_key(
    kind: IndicatorKind,
    value: &str,
) -> Result<Option<String>, crate::domain::SubjectError> {
    let key = Subject::of_kind(kind, value)?.key();
    Ok(Some(key).filter(|key| key != value))
}

/// Of two list entries under one key, whether the first is kept: the more serious risk,
/// or the newer if equal.
pub(crate) fn keeps_first(first: (Risk, DateTime<Utc>), second: (Risk, DateTime<Utc>)) -> bool {
    let severity = |risk: Risk| match risk {
        Risk::Fraud => 2,
        Risk::Suspicious => 1,
        Risk::Official => 0,
    };
    (severity(first.0), first.1) >= (severity(second.0), second.1)
}

macro_rules! impl_rekey {
    ($store:ty, $db:ty) => {
        impl $store {
            /// Re-keys every stored value of `keys.kind` if the database's `keys.data_version`
            /// row names other rules than `keys.rules`; nothing otherwise. One transaction:
            /// instances migrating together re-key once.
            pub(crate) async fn rekey(
                &self,
                keys: $crate::store::subject_keys::KeyRules,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<$crate::store::subject_keys::Rekeyed, $crate::store::StoreError> {
                use $crate::domain::{Actor, AuditAction, AuditEntry, Risk};
                use $crate::store::subject_keys::{Rekeyed, keeps_first, new_key};
                let mut tx = self.begin_write().await?;
                // Claims the re-keying: a concurrent transaction waits on the row, then finds
                // it already names the rules and changes nothing.
                let kind = keys.kind.as_str();
                let claimed = ::sqlx::query(
                    "INSERT INTO data_versions (name, version, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at \
                     WHERE data_versions.version <> excluded.version",
                )
                .bind(keys.data_version)
                .bind(keys.rules)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if claimed == 0 {
                    return Ok(Rekeyed::default());
                }
                let mut done = Rekeyed::default();
                let rows: Vec<(i64, String, String, ::chrono::DateTime<::chrono::Utc>)> = ::sqlx::query_as(
                    "SELECT id, value, risk, added_at FROM indicators WHERE kind = $1 ORDER BY id",
                )
                .bind(kind)
                .fetch_all(&mut *tx)
                .await?;
                for (id, value, risk, added_at) in rows {
                    let key = match new_key(keys.kind, &value) {
                        Ok(Some(key)) => key,
                        Ok(None) => continue,
                        Err(_) => {
                            done.unreadable += 1;
                            continue;
                        }
                    };
                    let risk: Risk = risk.parse().map_err(|e| $crate::store::StoreError::corrupt(&value, e))?;
                    let other: Option<(i64, String, ::chrono::DateTime<::chrono::Utc>)> = ::sqlx::query_as(
                        "SELECT id, risk, added_at FROM indicators WHERE kind = $1 AND value = $2",
                    )
                    .bind(kind)
                    .bind(&key)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let mut detail = format!("was {value}");
                    if let Some((other_id, other_risk, other_added_at)) = other {
                        let other_risk: Risk =
                            other_risk.parse().map_err(|e| $crate::store::StoreError::corrupt(&key, e))?;
                        let (removed, kept_risk) = if keeps_first((risk, added_at), (other_risk, other_added_at)) {
                            (other_id, risk)
                        } else {
                            (id, other_risk)
                        };
                        ::sqlx::query("DELETE FROM indicators WHERE id = $1").bind(removed).execute(&mut *tx).await?;
                        detail = format!("{detail}; merged with the entry already under {key}, kept as {kept_risk}");
                        done.merged += 1;
                    }
                    ::sqlx::query("UPDATE indicators SET value = $1 WHERE id = $2")
                        .bind(&key)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    $crate::store::audit::insert_audit(&AuditEntry {
                        at: now,
                        actor: Actor::System,
                        action: AuditAction::Rekeyed,
                        subject: format!("{kind} {key}"),
                        detail,
                    })
                    .execute(&mut *tx)
                    .await?;
                    done.indicators += 1;
                }
                let subjects: Vec<(i64, String)> = ::sqlx::query_as(
                    "SELECT report_id, value FROM report_subjects WHERE kind = $1 ORDER BY report_id, value",
                )
                .bind(kind)
                .fetch_all(&mut *tx)
                .await?;
                for (report_id, value) in subjects {
                    let key = match new_key(keys.kind, &value) {
                        Ok(Some(key)) => key,
                        Ok(None) => continue,
                        Err(_) => {
                            done.unreadable += 1;
                            continue;
                        }
                    };
                    // The report may name the number under its key already: then the old
                    // row is a duplicate, and goes.
                    ::sqlx::query(
                        "UPDATE report_subjects SET value = $3 WHERE report_id = $1 AND kind = $4 AND value = $2 \
                         AND NOT EXISTS (SELECT 1 FROM report_subjects s WHERE s.report_id = $1 AND s.kind = $4 AND s.value = $3)",
                    )
                    .bind(report_id)
                    .bind(&value)
                    .bind(&key)
                    .bind(kind)
                    .execute(&mut *tx)
                    .await?;
                    ::sqlx::query("DELETE FROM report_subjects WHERE report_id = $1 AND kind = $3 AND value = $2")
                        .bind(report_id)
                        .bind(&value)
                        .bind(kind)
                        .execute(&mut *tx)
                        .await?;
                    done.report_subjects += 1;
                }
                if done != Rekeyed::default() {
                    $crate::store::audit::insert_audit(&AuditEntry {
                        at: now,
                        actor: Actor::System,
                        action: AuditAction::Rekeyed,
                        subject: format!("{kind} keys"),
                        detail: format!(
                            "{}: {} list entries re-keyed ({} merged), {} report subjects; {} no longer {}, kept",
                            keys.rules,
                            done.indicators,
                            done.merged,
                            done.report_subjects,
                            done.unreadable,
                            keys.unreadable
                        ),
                    })
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(done)
            }
        }
    };
}

pub(crate) use impl_rekey;

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    #[test]
    fn old_keys_get_their_key_now_and_current_ones_stay() {
        let phone = |value| new_key(IndicatorKind::Phone, value);
        assert_eq!(phone("+8602155550000"), Ok(Some("+862155550000".to_owned())));
        assert_eq!(phone("+4402079460000"), Ok(Some("+442079460000".to_owned())));
        assert_eq!(phone("+862155550000"), Ok(None));
        assert_eq!(phone("+8613800138000"), Ok(None));
        assert_eq!(phone("+8696110"), Ok(None));
        assert!(phone("+999123456").is_err(), "no longer a number");
        let link = |value| new_key(IndicatorKind::Domain, value);
        assert_eq!(link("scam.gitee.io"), Ok(Some("gitee.io".to_owned())));
        assert_eq!(link("shop.com.ae"), Ok(Some("com.ae".to_owned())));
        assert_eq!(link("alipay-refund.top"), Ok(None));
        assert_eq!(link("scam-site.github.io"), Ok(None));
        assert_eq!(link("gov.cn"), Ok(None));
        assert!(link("localhost").is_err(), "no longer a link");
    }

    #[test]
    fn the_more_serious_entry_is_kept_and_the_newer_if_equal() {
        let (early, late) = (Utc.timestamp_opt(1, 0).unwrap(), Utc.timestamp_opt(2, 0).unwrap());
        assert!(keeps_first((Risk::Fraud, early), (Risk::Suspicious, late)));
        assert!(!keeps_first((Risk::Official, late), (Risk::Suspicious, early)));
        assert!(keeps_first((Risk::Fraud, late), (Risk::Fraud, early)));
        assert!(!keeps_first((Risk::Fraud, early), (Risk::Fraud, late)));
    }
}
