//! The echo floor: a minimal teloxide 0.17 bot that answers every text message with the
//! same text, as teloxide's own `repl` example does (without its Ctrl-C handler, which
//! needs a feature Pingan does not enable). The load benchmark runs it as a process of its
//! own — the benchmark binary started again with `BENCH_ROLE=echo-bot` — against the same
//! fake Bot API and the same updates as Pingan, so that the two can be compared.

use teloxide::prelude::*;

/// Runs the echo bot against the Bot API at `BENCH_API_URL` until the process is killed.
pub fn main() {
    let url = std::env::var("BENCH_API_URL").expect("BENCH_API_URL");
    let url = url.parse().expect("BENCH_API_URL is a URL");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a Tokio runtime");
    runtime.block_on(async move {
        let bot = Bot::new(crate::fake::TOKEN).set_api_url(url);
        let handler = Update::filter_message().endpoint(|bot: Bot, message: Message| async move {
            if let Some(text) = message.text() {
                bot.send_message(message.chat.id, text).await?;
            }
            respond(())
        });
        Dispatcher::builder(bot, handler).build().dispatch().await;
    });
}
