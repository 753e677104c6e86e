//! `pingan healthcheck`: asks a running `pingan run` for `/healthz`, for a container's
//! `HEALTHCHECK` or a monitor that has no HTTP client of its own.

use std::time::Duration;

use anyhow::{Context, bail};

use crate::config::Settings;

/// How long the check waits for an answer, connection included.
const TIMEOUT: Duration = Duration::from_secs(4);

#[derive(Debug, clap::Args)]
pub struct HealthcheckArgs {
    /// The health URL to ask [default: /healthz at http.listen, 127.0.0.1 when it listens
    /// on every address]
    #[arg(long, value_name = "URL")]
    url: Option<String>,
}

/// Exits 0 when the server answers 200 within 4 seconds; otherwise fails with why.
pub async fn run(args: HealthcheckArgs, settings: &Settings) -> anyhow::Result<()> {
    let url = match args.url {
        Some(url) => url,
        None => {
            let Some(mut listen) = settings.http.listen else {
                bail!("http.listen is \"off\": nothing to ask; pass --url");
            };
            if listen.ip().is_unspecified() {
                listen.set_ip(if listen.is_ipv4() {
                    std::net::Ipv4Addr::LOCALHOST.into()
                } else {
                    std::net::Ipv6Addr::LOCALHOST.into()
                });
            }
            format!("http://{listen}/healthz")
        }
    };
    let client =
        reqwest::Client::builder().timeout(TIMEOUT).build().context("cannot build the HTTP client")?;
    let response = client.get(&url).send().await.with_context(|| format!("no answer from {url}"))?;
    let status = response.status();
    if !status.is_success() {
        bail!("{url} answered {status}");
    }
    println!("{url}: {status}");
    Ok(())
}
