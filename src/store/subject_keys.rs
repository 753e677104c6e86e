//! Stored phone numbers re-keyed when the rules that make their keys change.
//!
//! Indicators and report subjects are kept under a number's key (`+862155550000`). The key
//! comes from libphonenumber's metadata and Pingan's reading of it
//! ([`PHONE_KEY_RULES`](crate::domain::check::PHONE_KEY_RULES)): before those rules, `+86
//! (0)21 5555 0000` was kept as `+8602155550000`, which no spelling finds now. Migrating a
//! database whose `data_versions` row for `phone_keys` names other rules (or none) reads
//! every stored phone number again, in one transaction, and moves it to its key now. When
//! two entries of the list meet under one key, the more serious risk is kept (fraud, then
//! suspicious, then official; the newer entry if equal), and the audit log says what became
//! of each. A value that no longer reads as a number (`+999…`: no such country code) is
//! left as it is and counted; the log says how many, not which (report subjects come from
//! citizens' reports).

use chrono::{DateTime, Utc};

use crate::domain::{IndicatorKind, Risk, Subject};

/// What a re-keying changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rekeyed {
    /// List entries moved to their key now (merged ones included).
    pub indicators: usize,
    /// List entries merged into another under the same key, and so removed.
    pub merged: usize,
    /// Report subjects moved to their key now.
    pub report_subjects: usize,
    /// Stored values (list entries and report subjects) that no longer read as phone
    /// numbers, left as they are.
    pub unreadable: usize,
}

/// The key `value` has now if it is another (`Ok(None)`: the same); `Err` if it no
/// longer reads as a phone number.
pub(crate) fn new_key(value: &str) -> Result<Option<String>, crate::domain::SubjectError> {
    let key = Subject::of_kind(IndicatorKind::Phone, value)?.key();
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

macro_rules! impl_rekey_phones {
    ($store:ty, $db:ty) => {
        impl $store {
            /// Re-keys every stored phone number if the database's `phone_keys` rules are not
            /// [`PHONE_KEY_RULES`](crate::domain::check::PHONE_KEY_RULES); nothing otherwise.
            /// One transaction: instances migrating together re-key once.
            pub(crate) async fn rekey_phones(
                &self,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<$crate::store::subject_keys::Rekeyed, $crate::store::StoreError> {
                use $crate::domain::{Actor, AuditAction, AuditEntry, Risk};
                use $crate::store::subject_keys::{Rekeyed, keeps_first, new_key};
                let mut tx = self.begin_write().await?;
                // Claims the re-keying: a concurrent transaction waits on the row, then finds
                // it already names the rules and changes nothing.
                let claimed = ::sqlx::query(
                    "INSERT INTO data_versions (name, version, updated_at) VALUES ('phone_keys', $1, $2) \
                     ON CONFLICT (name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at \
                     WHERE data_versions.version <> excluded.version",
                )
                .bind($crate::domain::check::PHONE_KEY_RULES)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if claimed == 0 {
                    return Ok(Rekeyed::default());
                }
                let mut done = Rekeyed::default();
                let rows: Vec<(i64, String, String, ::chrono::DateTime<::chrono::Utc>)> = ::sqlx::query_as(
                    "SELECT id, value, risk, added_at FROM indicators WHERE kind = 'phone' ORDER BY id",
                )
                .fetch_all(&mut *tx)
                .await?;
                for (id, value, risk, added_at) in rows {
                    let key = match new_key(&value) {
                        Ok(Some(key)) => key,
                        Ok(None) => continue,
                        Err(_) => {
                            done.unreadable += 1;
                            continue;
                        }
                    };
                    let risk: Risk = risk.parse().map_err(|e| $crate::store::StoreError::corrupt(&value, e))?;
                    let other: Option<(i64, String, ::chrono::DateTime<::chrono::Utc>)> = ::sqlx::query_as(
                        "SELECT id, risk, added_at FROM indicators WHERE kind = 'phone' AND value = $1",
                    )
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
                        subject: format!("phone {key}"),
                        detail,
                    })
                    .execute(&mut *tx)
                    .await?;
                    done.indicators += 1;
                }
                let subjects: Vec<(i64, String)> = ::sqlx::query_as(
                    "SELECT report_id, value FROM report_subjects WHERE kind = 'phone' ORDER BY report_id, value",
                )
                .fetch_all(&mut *tx)
                .await?;
                for (report_id, value) in subjects {
                    let key = match new_key(&value) {
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
                        "UPDATE report_subjects SET value = $3 WHERE report_id = $1 AND kind = 'phone' AND value = $2 \
                         AND NOT EXISTS (SELECT 1 FROM report_subjects s WHERE s.report_id = $1 AND s.kind = 'phone' AND s.value = $3)",
                    )
                    .bind(report_id)
                    .bind(&value)
                    .bind(&key)
                    .execute(&mut *tx)
                    .await?;
                    ::sqlx::query("DELETE FROM report_subjects WHERE report_id = $1 AND kind = 'phone' AND value = $2")
                        .bind(report_id)
                        .bind(&value)
                        .execute(&mut *tx)
                        .await?;
                    done.report_subjects += 1;
                }
                if done != Rekeyed::default() {
                    $crate::store::audit::insert_audit(&AuditEntry {
                        at: now,
                        actor: Actor::System,
                        action: AuditAction::Rekeyed,
                        subject: "phone keys".to_owned(),
                        detail: format!(
                            "{}: {} list entries re-keyed ({} merged), {} report subjects; {} no longer numbers, kept",
                            $crate::domain::check::PHONE_KEY_RULES,
                            done.indicators,
                            done.merged,
                            done.report_subjects,
                            done.unreadable
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

pub(crate) use impl_rekey_phones;

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    #[test]
    fn old_keys_get_their_key_now_and_current_ones_stay() {
        assert_eq!(new_key("+8602155550000"), Ok(Some("+862155550000".to_owned())));
        assert_eq!(new_key("+4402079460000"), Ok(Some("+442079460000".to_owned())));
        assert_eq!(new_key("+862155550000"), Ok(None));
        assert_eq!(new_key("+8613800138000"), Ok(None));
        assert_eq!(new_key("+8696110"), Ok(None));
        assert!(new_key("+999123456").is_err(), "no longer a number");
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
