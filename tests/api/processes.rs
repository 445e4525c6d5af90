//! The real `cbln` binary serving on a free port as a child process, for tests that signal or
//! kill it, or put something of their own (a proxy, a load balancer) in front of it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::process::Child;
use tokio::task::JoinHandle;

/// A loopback port free at the time of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// The path of `program` on PATH or in /usr/sbin (where Debian puts daemons such as HAProxy, and
/// which a user's PATH may lack), or a loud failure saying how to install it: a test that needs
/// it fails, never skips.
pub fn installed(program: &str, install: &str) -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "this test needs `{program}`, which is not installed. Install it with: {install}"
            )
        })
}

/// Waits until `address` answers `/health/ready` with 200 (60 s at most).
pub async fn wait_until_ready(client: &reqwest::Client, address: &str) {
    let started = Instant::now();
    loop {
        let ready = client
            .get(format!("{address}/health/ready"))
            .send()
            .await
            .is_ok_and(|response| response.status() == 200);
        if ready {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{address} did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Opens a session on the server at `address` and returns its token.
pub async fn open_session(client: &reqwest::Client, address: &str) -> String {
    let created: serde_json::Value = client
        .post(format!("{address}/api/v1/sessions"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("create session")
        .json()
        .await
        .expect("session json");
    created["session"]["session_token"]
        .as_str()
        .expect("token")
        .to_string()
}

/// `cbln serve` running in the `test` environment.
pub struct ServeProcess {
    /// The process (killed when dropped).
    pub child: Child,
    /// `http://127.0.0.1:port`.
    pub address: String,
    /// Everything it writes to stderr, once it has exited.
    pub stderr: JoinHandle<String>,
}

impl ServeProcess {
    /// Starts `cbln serve` in `dir` on a free port with only PATH, `CBLN_ENV=test` and `env` in
    /// its environment, and waits until it is ready.
    pub async fn start(dir: &Path, env: &[(&str, String)]) -> ServeProcess {
        let port = free_port();
        let mut child = tokio::process::Command::new(crate::config_errors::cbln_binary())
            .arg("serve")
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("CBLN_ENV", "test")
            .env("PORT", port.to_string())
            .envs(env.iter().map(|(name, value)| (*name, value.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("cbln starts");
        let mut pipe = child.stderr.take().expect("stderr");
        let stderr = tokio::spawn(async move {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text).await;
            text
        });
        let address = format!("http://127.0.0.1:{port}");
        wait_until_ready(&reqwest::Client::new(), &address).await;
        ServeProcess {
            child,
            address,
            stderr,
        }
    }

    /// `host:port`, for a proxy's configuration.
    pub fn host_port(&self) -> &str {
        self.address.trim_start_matches("http://")
    }

    /// Sends `signal` (`TERM`, `KILL`, …) to the process.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().expect("the process still runs");
        let sent = std::process::Command::new("kill")
            .args([format!("-{signal}"), pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -{signal} {pid}");
    }
}
