//! The risk check of a phone number, link or account: the bureau's list, its shipped
//! list of genuine numbers and sites, and the reports moderators accepted.

use crate::content::officials;
use crate::domain::{Language, Subject, Verdict};
use crate::store::{Store, StoreError};

/// What is known of `subject`, with reasons in `language`.
pub async fn verdict(
    store: &dyn Store,
    subject: &Subject,
    language: Language,
) -> Result<Verdict, StoreError> {
    let (kind, key) = (subject.kind(), subject.key());
    let listed = match store.indicator(kind, &key).await? {
        Some(indicator) => Some(indicator),
        None => officials::all().iter().find(|o| &o.subject == subject).map(|o| o.indicator(language)),
    };
    let reports = store.approved_reports_naming(kind, &key).await?;
    let mut official_domains = store.official_domains().await?;
    official_domains.extend(
        officials::all().iter().filter(|o| matches!(o.subject, Subject::Link(_))).map(|o| o.subject.key()),
    );
    Ok(Verdict::of(subject, listed, reports, official_domains.iter().map(String::as_str)))
}
