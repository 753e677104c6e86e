//! Running the real `pingan` binary, as an operator would.

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// The binary, in `dir`, with none of this machine's Pingan settings leaking in.
pub fn pingan(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pingan"));
    command.current_dir(dir).kill_on_drop(true);
    for (name, _) in std::env::vars() {
        let ours = name.starts_with("PINGAN_") || name.starts_with("TELOXIDE_");
        if ours || name == "DATABASE_URL" || name == "RUST_LOG" {
            command.env_remove(name);
        }
    }
    // Binaries run side by side in tests; none takes the default HTTP port.
    command.env("PINGAN_HTTP_LISTEN", "off");
    command
}

pub async fn output(command: &mut Command, stdin: Option<&str>) -> Output {
    command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("start pingan");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).await.expect("write stdin");
    }
    drop(input);
    tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("pingan finished within a minute")
        .expect("pingan output")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
