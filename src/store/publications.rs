//! Publishing as one transaction: the notices, their audit entries, the idempotency key
//! that recognises the same request made again, and the editor's dialogue it ends. A
//! failure anywhere leaves nothing behind; a repeat returns the first result.

use async_trait::async_trait;

use super::StoreError;
use crate::domain::{Actor, ChatId, NewNotice, Notice, NoticeContent, NoticeCorrection, NoticeId};

/// What one publication stores, and what it consumes.
#[derive(Clone, Copy, Debug)]
pub struct NewPublication<'a> {
    /// One notice, or the language versions of one alert.
    pub notices: &'a [NewNotice],
    pub actor: &'a Actor,
    /// The same request made again (a second press of Publish, a client's retry) carries
    /// the same key: it gets the first result and nothing new is stored.
    pub idempotency_key: Option<&'a str>,
    /// The editor's dialogue in this chat that the publication ends.
    pub ends_dialogue: Option<(ChatId, i64)>,
}

/// What a publication stored — or, for a repeat, had stored the first time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    pub notices: Vec<Notice>,
    /// True when this was a repeat: nothing was stored now.
    pub repeated: bool,
}

#[async_trait]
pub trait PublicationStore {
    /// Stores the notices, an audit entry for each, the idempotency key and the end of the
    /// dialogue, in one transaction. A key seen before with the same content returns what
    /// it stored then; with other content, `Conflict`. Two requests with one key at the
    /// same moment: one stores, the other gets its result.
    async fn publish(&self, publication: &NewPublication<'_>) -> Result<Published, StoreError>;
    /// What a publication under `key` stored, if one did.
    async fn published_under(&self, key: &str) -> Result<Option<Vec<Notice>>, StoreError>;
}

/// What a publication asks for, as the key's record keeps it: a SHA-256 over each notice's
/// content and external id (not its times, which "now" moves between two requests).
pub(crate) fn fingerprint(notices: &[NewNotice]) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for n in notices {
        hash_fields(&mut hash, &content_fields(n.content()).iter().map(String::as_str).collect::<Vec<_>>());
        hash_fields(&mut hash, &[n.external_id().unwrap_or("")]);
    }
    hex::encode(hash.finalize())
}

/// What a correction asks for, as its key's record keeps it: a SHA-256 over the notice's
/// number, the new content and the new expiry. Prefixed so that a key first used for a
/// publication (or the other way round) is a conflict, never a repeat.
pub fn change_fingerprint(id: NoticeId, correction: &NoticeCorrection) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    let expires = correction.expires_at().map(|t| t.to_rfc3339()).unwrap_or_default();
    hash_fields(&mut hash, &["correction", &id.0.to_string(), &expires]);
    hash_fields(
        &mut hash,
        &content_fields(correction.content()).iter().map(String::as_str).collect::<Vec<_>>(),
    );
    format!("correction:{}", hex::encode(hash.finalize()))
}

/// The content's fields for an idempotency key; the districts only when the notice names
/// some, so that keys of whole-city notices stay what they were before districts existed.
fn content_fields(c: &NoticeContent) -> Vec<String> {
    let mut fields: Vec<String> = [
        c.title.as_str(),
        c.body.as_str(),
        c.category.as_str(),
        c.severity.as_str(),
        c.area.as_ref().map_or("", |a| a.as_str()),
        c.language.code(),
        c.source.as_ref().map_or("", |s| s.as_str()),
    ]
    .map(str::to_owned)
    .into();
    if !c.districts.is_empty() {
        fields.push(crate::domain::district::districts_to_column(&c.districts));
    }
    fields
}

/// Each field with its length first, so that no two lists of fields hash alike.
fn hash_fields(hash: &mut sha2::Sha256, fields: &[&str]) {
    use sha2::Digest;
    for field in fields {
        hash.update(field.len().to_le_bytes());
        hash.update(field.as_bytes());
    }
}

/// A change's result as its key's record keeps it: the follow-up's fan-out key and how
/// many were told, separated by a tab (fan-out keys hold none).
pub(crate) fn change_result(follow_up: &str, told: u64) -> String {
    format!("{follow_up}\t{told}")
}

/// The follow-up key and count a change's record names.
pub(crate) fn parse_change_result(result: &str) -> Result<(String, u64), StoreError> {
    let corrupt = || StoreError::corrupt("idempotency result", result);
    let (follow_up, told) = result.split_once('\t').ok_or_else(corrupt)?;
    Ok((follow_up.to_owned(), told.parse().map_err(|_| corrupt())?))
}

/// The notice ids a key's result names.
pub(crate) fn parse_result(result: &str) -> Result<Vec<i64>, StoreError> {
    result
        .split(',')
        .filter(|id| !id.is_empty())
        .map(|id| id.parse().map_err(|_| StoreError::corrupt("idempotency result", result)))
        .collect()
}

macro_rules! impl_publication_store {
    ($store:ty, $db:ty) => {
        impl $store {
            /// The result recorded under an idempotency key, if the key was used before for
            /// the request `fingerprint` names; `Conflict` if it was used for another.
            /// Inside `tx`.
            pub(crate) async fn repeat_of_in(
                tx: &mut ::sqlx::Transaction<'_, $db>,
                key: &str,
                fingerprint: &str,
            ) -> Result<Option<String>, $crate::store::StoreError> {
                let seen: Option<(String, String)> =
                    ::sqlx::query_as("SELECT fingerprint, result FROM idempotency_keys WHERE key = $1")
                        .bind(key)
                        .fetch_optional(&mut **tx)
                        .await?;
                match seen {
                    Some((asked, _)) if asked != fingerprint => Err($crate::store::StoreError::Conflict(format!(
                        "the key {key} was used for another request"
                    ))),
                    Some((_, result)) => Ok(Some(result)),
                    None => Ok(None),
                }
            }

            /// Records an idempotency key with what it asked for and what it got, and ends
            /// the editor's dialogue the request consumed. Inside `tx`.
            pub(crate) async fn record_once_in(
                tx: &mut ::sqlx::Transaction<'_, $db>,
                key: Option<(&str, &str)>,
                result: &str,
                at: ::chrono::DateTime<::chrono::Utc>,
                ends_dialogue: Option<($crate::domain::ChatId, i64)>,
            ) -> Result<(), $crate::store::StoreError> {
                if let Some((key, fingerprint)) = key {
                    ::sqlx::query(
                        "INSERT INTO idempotency_keys (key, fingerprint, result, created_at) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(key)
                    .bind(fingerprint)
                    .bind(result)
                    .bind(at)
                    .execute(&mut **tx)
                    .await?;
                }
                if let Some((chat, user)) = ends_dialogue {
                    ::sqlx::query("DELETE FROM dialogues WHERE chat_id = $1 AND user_id = $2")
                        .bind(chat.0)
                        .bind(user)
                        .execute(&mut **tx)
                        .await?;
                }
                Ok(())
            }

            /// The notices a key's result names, read inside `conn`'s transaction.
            pub(crate) async fn notices_by_ids(
                tx: &mut ::sqlx::Transaction<'_, $db>,
                ids: &[i64],
            ) -> Result<Vec<$crate::domain::Notice>, $crate::store::StoreError> {
                let mut notices = Vec::with_capacity(ids.len());
                for id in ids {
                    let row: $crate::store::notices::NoticeRow = ::sqlx::query_as(concat!(
                        "SELECT ",
                        $crate::store::notices::notice_columns!(),
                        " FROM notices WHERE id = $1"
                    ))
                    .bind(id)
                    .fetch_one(&mut **tx)
                    .await?;
                    notices.push(row.try_into()?);
                }
                Ok(notices)
            }

            async fn publish_once(
                &self,
                p: &$crate::store::NewPublication<'_>,
            ) -> Result<$crate::store::Published, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                let fingerprint = $crate::store::publications::fingerprint(p.notices);
                if let Some(key) = p.idempotency_key
                    && let Some(result) = Self::repeat_of_in(&mut tx, key, &fingerprint).await?
                {
                    let ids = $crate::store::publications::parse_result(&result)?;
                    let notices = Self::notices_by_ids(&mut tx, &ids).await?;
                    return Ok($crate::store::Published { notices, repeated: true });
                }
                let mut notices = Vec::with_capacity(p.notices.len());
                for new in p.notices {
                    let notice = Self::insert_notice_in(&mut tx, new).await?;
                    let entry = $crate::domain::AuditEntry::publication(&notice, p.actor);
                    $crate::store::audit::insert_audit(&entry).execute(&mut *tx).await?;
                    notices.push(notice);
                }
                let ids: Vec<String> = notices.iter().map(|n| n.id.0.to_string()).collect();
                let at = notices.first().map_or_else(::chrono::Utc::now, |n| n.created_at);
                let key = p.idempotency_key.map(|key| (key, fingerprint.as_str()));
                Self::record_once_in(&mut tx, key, &ids.join(","), at, p.ends_dialogue).await?;
                tx.commit().await?;
                Ok($crate::store::Published { notices, repeated: false })
            }
        }

        #[::async_trait::async_trait]
        impl $crate::store::PublicationStore for $store {
            async fn publish(
                &self,
                p: &$crate::store::NewPublication<'_>,
            ) -> Result<$crate::store::Published, $crate::store::StoreError> {
                match (self.publish_once(p).await, p.idempotency_key) {
                    // A unique key broken: the same request at the same moment stored first
                    // (then it is found now, and its record is checked like any repeat), or
                    // the external id belongs to another notice.
                    (Err($crate::store::StoreError::Conflict(why)), Some(_)) => {
                        match self.publish_once(p).await {
                            Err($crate::store::StoreError::Conflict(_)) => {
                                Err($crate::store::StoreError::Conflict(why))
                            }
                            other => other,
                        }
                    }
                    (result, _) => result,
                }
            }

            async fn published_under(
                &self,
                key: &str,
            ) -> Result<Option<Vec<$crate::domain::Notice>>, $crate::store::StoreError> {
                let mut tx = self.pool.begin().await?;
                let seen: Option<(String,)> =
                    ::sqlx::query_as("SELECT result FROM idempotency_keys WHERE key = $1")
                        .bind(key)
                        .fetch_optional(&mut *tx)
                        .await?;
                let found = match seen {
                    Some((result,)) => {
                        let ids = $crate::store::publications::parse_result(&result)?;
                        Some(Self::notices_by_ids(&mut tx, &ids).await?)
                    }
                    None => None,
                };
                tx.commit().await?;
                Ok(found)
            }
        }
    };
}

pub(crate) use impl_publication_store;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_lists_notice_ids() {
        assert_eq!(parse_result("12,13").unwrap(), [12, 13]);
        assert_eq!(parse_result("").unwrap(), Vec::<i64>::new());
        assert!(parse_result("12,x").is_err());
    }

    #[test]
    fn a_change_result_names_its_follow_up_and_count() {
        let result = change_result("correction:12:1764561600000000", 42);
        assert_eq!(parse_change_result(&result).unwrap(), ("correction:12:1764561600000000".to_owned(), 42));
        assert!(parse_change_result("12,13").is_err(), "a publication's result is not a change's");
    }
}
