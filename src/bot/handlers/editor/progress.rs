//! The status message an editor watches after publishing from Telegram: queued, sent,
//! failed, gone and the expected finish, edited in place at most every three seconds.

use std::sync::Arc;
use std::time::Duration;

use crate::app::App;
use crate::bot::handlers::Ctx;
use crate::domain::expected_finish;
use crate::domain::{Language, Notice, NoticeId};
use crate::i18n::Arg;
use crate::render::Style;
use crate::store::{FanoutKind, FanoutProgress};
use crate::telegram::outbound::{OutMessage, Outbound, SendError, Sent};

/// Telegram's edits are rate limited too; once every three seconds is plenty to watch.
const EVERY: Duration = Duration::from_secs(3);
/// Stop watching a fan-out that runs longer than this.
const AT_MOST: Duration = Duration::from_secs(3600);
/// A notice with no fan-out after this long goes out only in digests.
const NO_FANOUT_AFTER: Duration = Duration::from_secs(20);

/// What a status message follows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Watched {
    /// A new publication: its alert and channel post.
    Publication,
    /// A correction or withdrawal: the follow-up fan-out with this key.
    FollowUp(String),
}

impl Watched {
    fn covers(&self, fanout: &FanoutProgress) -> bool {
        match self {
            Watched::Publication => matches!(fanout.kind, FanoutKind::Alert | FanoutKind::Channel),
            Watched::FollowUp(key) => &fanout.key == key,
        }
    }
}

/// Tells the editor the notice is queued, then keeps that message updated with the
/// progress of what it `watched` until it is all sent.
pub(super) async fn follow(ctx: &Ctx<'_>, notice: &Notice, watched: Watched) -> Result<(), SendError> {
    let zero = Arg::Number(0);
    let title = notice.content.title.as_str();
    let queued = ctx.fill(
        "editor.progress_queued",
        &[("title", title.into()), ("waiting", zero), ("sent", zero), ("failed", zero), ("gone", zero)],
    );
    let status = ctx.out.send_tracked(ctx.origin.target, OutMessage::html(queued.clone())).await?;
    let app = ctx.app.clone();
    let out = ctx.out.clone();
    let (notice, title, lang) = (notice.id, title.to_owned(), ctx.lang);
    // The status message's id is known once Telegram has it; the handler does not wait.
    tokio::spawn(async move {
        match status.sent().await {
            Ok(status) => {
                let watch = Watch { status, notice, watched, title, lang };
                watch.run(app, out, queued.into_string()).await;
            }
            Err(e) => tracing::warn!(error = %e, "cannot send a status message"),
        }
    });
    Ok(())
}

/// One status message and what it shows.
struct Watch {
    status: Sent,
    notice: NoticeId,
    watched: Watched,
    title: String,
    lang: Language,
}

impl Watch {
    async fn run(self, app: Arc<App>, out: Arc<dyn Outbound>, mut shown: String) {
        let Watch { status, notice, watched, title, lang } = self;
        let started = tokio::time::Instant::now();
        loop {
            let fanouts = match app.store.notice_fanouts(notice).await {
                Ok(mut fanouts) => {
                    fanouts.retain(|f| watched.covers(f));
                    fanouts
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read delivery progress; will try again");
                    Vec::new()
                }
            };
            let style = Style::new(&app.texts, lang, app.settings.time_zone);
            let (text, done) = if fanouts.is_empty() && started.elapsed() >= NO_FANOUT_AFTER {
                (style.fill("editor.progress_digest_only", &[("title", title.as_str().into())]), true)
            } else {
                describe(&app, &style, &title, &fanouts)
            };
            if text.as_str() != shown {
                if let Err(e) = out.edit(status, OutMessage::html(text.clone())).await {
                    tracing::warn!(error = %e, "cannot update a status message");
                }
                shown = text.into_string();
            }
            if done || started.elapsed() >= AT_MOST {
                break;
            }
            tokio::time::sleep(EVERY).await;
        }
    }
}

fn describe(
    app: &App,
    style: &Style<'_>,
    title: &str,
    fanouts: &[FanoutProgress],
) -> (crate::html::Html, bool) {
    let sum = |f: fn(&FanoutProgress) -> u64| fanouts.iter().map(f).sum::<u64>() as i64;
    let (waiting, sent, failed, gone) =
        (sum(|f| f.pending + f.sending), sum(|f| f.sent), sum(|f| f.failed), sum(|f| f.gone));
    let counts = [
        ("title", title.into()),
        ("waiting", Arg::Number(waiting)),
        ("sent", Arg::Number(sent)),
        ("failed", Arg::Number(failed)),
        ("gone", Arg::Number(gone)),
    ];
    if fanouts.is_empty() {
        return (style.fill("editor.progress_queued", &counts), false);
    }
    if waiting == 0 {
        return (style.fill("editor.progress_done", &counts), true);
    }
    let rate = f64::from(app.delivery.effective_rate());
    let finish = expected_finish(waiting.max(0) as u64, rate, app.clock.now())
        .map(|t| style.date_time(t))
        .unwrap_or_default();
    let mut args = counts.to_vec();
    args.push(("finish", (&finish).into()));
    (style.fill("editor.progress", &args), false)
}
