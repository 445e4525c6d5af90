//! The pages compiled into the binary (`/chat`, `/staff`): the checks every such page passes over
//! plain HTTP, and a real browser — Debian's `chromium` driven through `chromedriver` — for the
//! tests that drive them.

use crate::helpers::TestApp;
use crate::processes::{free_port, installed};
use crate::support::header;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use rustix::process::{Pid, Signal, kill_process_group};
use serde_json::{Value, json};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Chromium and its WebDriver, together.
const INSTALL: &str = "apt-get install -y chromium chromium-driver";
pub const WAIT: Duration = Duration::from_secs(20);

/// The visible elements whose own text has less than 4.5:1 contrast with the first opaque
/// background behind it (WCAG 2 relative luminance).
pub const CONTRAST_BELOW_AA: &str = r#"
  const parse = (colour) => {
    const parts = colour.match(/rgba?\(([^)]+)\)/)[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return { rgb: parts.slice(0, 3), alpha: parts.length > 3 ? parts[3] : 1 };
  };
  const luminance = (rgb) => {
    const [r, g, b] = rgb.map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = (element) => {
    for (let e = element; e; e = e.parentElement) {
      const colour = parse(getComputedStyle(e).backgroundColor);
      if (colour.alpha > 0) return colour.rgb;
    }
    return [255, 255, 255];
  };
  const low = [];
  for (const element of document.querySelectorAll('body *')) {
    if (element.closest('.visually-hidden') || element.getClientRects().length === 0) continue;
    const ownText = [...element.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!ownText) continue;
    const [light, dark] = [luminance(parse(getComputedStyle(element).color).rgb),
                           luminance(background(element))].sort((a, b) => b - a);
    const ratio = (light + 0.05) / (dark + 0.05);
    if (ratio < 4.5) low.push({ text: element.textContent.trim().slice(0, 40), ratio });
  }
  return low;"#;

/// `path` is served as HTML under the strict policy, uncached, loads nothing from another host
/// and has no inline script or style; each of `assets` (under `path/`) is served with its type
/// and names no host.
pub async fn assert_strict_page(app: &TestApp, path: &str, assets: &[&str]) {
    let response = app.get(path).send().await.expect("request");
    assert_eq!(response.status(), 200);
    let text_of = |name: &str| header(&response, name).unwrap_or_default();
    assert_eq!(text_of("content-type"), "text/html; charset=utf-8");
    let policy = text_of("content-security-policy");
    assert!(policy.starts_with("default-src 'self'"), "{policy}");
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(!policy.contains("unsafe"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert_eq!(text_of("cache-control"), "no-store");
    assert_eq!(text_of("referrer-policy"), "no-referrer");
    let html = response.text().await.expect("body");
    assert!(html.contains("<html lang=\"vi\">"));
    // Nothing loaded from another host: every src and href stays on this one.
    for attribute in ["src=\"", "href=\""] {
        for value in html.split(attribute).skip(1) {
            assert!(value.starts_with('/'), "{attribute}{value:.40}");
        }
    }
    assert!(!html.contains("<script>"), "no inline script");
    assert!(!html.contains("style=\""), "no inline style");

    for file in assets {
        let content_type = if file.ends_with(".css") {
            "text/css; charset=utf-8"
        } else {
            "text/javascript; charset=utf-8"
        };
        let response = app
            .get(&format!("{path}/{file}"))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200, "{file}");
        assert_eq!(
            header(&response, "content-type").as_deref(),
            Some(content_type),
            "{file}"
        );
        let body = response.text().await.expect("body");
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "{file} names no host"
        );
    }
}

/// The token the chat page keeps for its tab.
pub async fn session_token(browser: &Client) -> String {
    kept_token(browser, "cbln.session_token").await
}

/// The token the console keeps for its tab.
pub async fn staff_token(console: &Client) -> String {
    kept_token(console, "cbln.staff_token").await
}

async fn kept_token(browser: &Client, key: &str) -> String {
    script(browser, &format!("return sessionStorage.getItem('{key}');"))
        .await
        .as_str()
        .unwrap_or_else(|| panic!("the page keeps `{key}` for its tab"))
        .to_string()
}

pub async fn script(browser: &Client, source: &str) -> Value {
    browser
        .execute(source, vec![])
        .await
        .unwrap_or_else(|error| panic!("script failed: {error}\n{source}"))
}

/// Runs `source` until it returns something other than null or false.
pub async fn wait_for_script(browser: &Client, source: &str) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let value = script(browser, source).await;
        if !value.is_null() && value != Value::Bool(false) {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {source}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The element `#id`, once it is there.
pub async fn element(browser: &Client, id: &str) -> Element {
    browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Id(id))
        .await
        .unwrap_or_else(|error| panic!("#{id}: {error}"))
}

pub async fn fill(browser: &Client, id: &str, text: &str) {
    let field = element(browser, id).await;
    field
        .send_keys(text)
        .await
        .unwrap_or_else(|error| panic!("type into #{id}: {error}"));
}

pub async fn click(browser: &Client, id: &str) {
    let button = element(browser, id).await;
    button
        .click()
        .await
        .unwrap_or_else(|error| panic!("press #{id}: {error}"));
}

/// Types `text` into the chat page's message box and sends it with Enter.
pub async fn send(browser: &Client, text: &str) {
    let enter = char::from(fantoccini::key::Key::Enter);
    fill(browser, "message", &format!("{text}{enter}")).await;
}

/// Keeps in `window.posts` the Idempotency-Key of every message the chat page posts; with
/// `drop_first`, the first post fails as a dropped network does.
pub async fn record_posts(browser: &Client, drop_first: bool) {
    script(
        browser,
        &format!(
            r#"window.posts = [];
               const dropFirst = {drop_first};
               const realFetch = window.fetch;
               window.fetch = (url, options = {{}}) => {{
                 if (url === '/api/v1/messages' && options.method === 'POST') {{
                   window.posts.push(options.headers['Idempotency-Key']);
                   if (dropFirst && window.posts.length === 1) {{
                     return Promise.reject(new TypeError('offline'));
                   }}
                 }}
                 return realFetch(url, options);
               }};
               return null;"#
        ),
    )
    .await;
}

/// Types `text` into the chat page's message box and sends it with Enter, then waits until the
/// page shows `replies` finished replies in all.
pub async fn say(browser: &Client, text: &str, replies: usize) {
    send(browser, text).await;
    wait_for_script(
        browser,
        &format!(
            "return document.querySelectorAll('.message.assistant:not([aria-busy])').length \
             >= {replies};"
        ),
    )
    .await;
}

/// A chromedriver of our own on a free port, in a process group of its own that the Chromium it
/// starts joins; dropping it kills the whole group, so a test that fails or panics at any point
/// after the start leaves no browser behind. (Chromium's crash handler alone leaves the group, by
/// a session of its own, and exits by itself within seconds of the browser it watches; the flag
/// that would keep it in, `--disable-crashpad-for-testing`, hangs the renderer.)
pub struct ChromeDriver {
    process: Child,
    url: String,
    chromium: PathBuf,
}

impl ChromeDriver {
    pub fn start() -> ChromeDriver {
        let chromium = installed("chromium", INSTALL);
        let chromedriver = installed("chromedriver", INSTALL);
        let port = free_port();
        let process = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("{} did not start: {error}", chromedriver.display()));
        // The guard exists before the wait, so a driver that never listens is killed by the
        // panic's unwinding like any other.
        let driver = ChromeDriver {
            process,
            url: format!("http://127.0.0.1:{port}"),
            chromium,
        };
        let deadline = Instant::now() + WAIT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver never listened on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }

    /// The process group of chromedriver and every Chromium process it started.
    pub fn process_group(&self) -> Pid {
        Pid::from_child(&self.process)
    }

    /// A small phone's browser showing `app`'s page at `path`.
    pub async fn open(&self, app: &TestApp, path: &str) -> Client {
        let browser = self.open_phone_browser().await;
        browser
            .goto(&app.url(path))
            .await
            .unwrap_or_else(|error| panic!("open {path}: {error}"));
        browser
    }

    /// Headless Chromium the size of a small phone.
    pub async fn open_phone_browser(&self) -> Client {
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": self.chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                         "--disable-gpu", "--lang=vi"],
            }
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object")
        };
        let browser = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .unwrap_or_else(|error| panic!("chromedriver could not start chromium: {error}"));
        // The command line's size is the window's, not the page's: set it through WebDriver.
        browser
            .set_window_size(360, 740)
            .await
            .expect("a phone-sized window");
        browser
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // Killing chromedriver alone would leave its browsers running, orphaned.
        let _ = kill_process_group(self.process_group(), Signal::KILL);
        let _ = self.process.wait();
    }
}

/// Every process on the machine as (pid, parent, process group), from `/proc/<pid>/stat`; a
/// process that ends while the table is read is left out.
fn process_table() -> Vec<(i32, i32, i32)> {
    let entries = std::fs::read_dir("/proc").expect("/proc");
    entries
        .filter_map(|entry| {
            let pid: i32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // The command name may hold spaces and parentheses; the fields after it do not.
            let mut fields = stat.get(stat.rfind(')')? + 1..)?.split_whitespace().skip(1);
            let parent = fields.next()?.parse().ok()?;
            let group = fields.next()?.parse().ok()?;
            Some((pid, parent, group))
        })
        .collect()
}

/// A test that fails with the browser still open drops the driver first: chromedriver and every
/// Chromium process it started are one process group, and dropping the guard ends all of them.
#[actix_web::test]
async fn a_dropped_driver_leaves_no_browser_behind() {
    let driver = ChromeDriver::start();
    let browser = driver.open_phone_browser().await;
    let group = driver.process_group();
    let leader = group.as_raw_pid();

    let table = process_table();
    let mut started = vec![leader];
    loop {
        let known = started.len();
        for (pid, parent, _) in &table {
            if started.contains(parent) && !started.contains(pid) {
                started.push(*pid);
            }
        }
        if started.len() == known {
            break;
        }
    }
    assert!(
        started.len() > 2,
        "chromedriver started Chromium: {started:?}"
    );
    for (pid, _, pid_group) in table.iter().filter(|(pid, ..)| started.contains(pid)) {
        assert_eq!(*pid_group, leader, "process {pid} is in the driver's group");
    }

    drop(driver);
    // The killed processes linger as zombies until init reaps them, so the group takes a moment
    // to disappear.
    let deadline = Instant::now() + WAIT;
    loop {
        match rustix::process::test_kill_process_group(group) {
            Err(rustix::io::Errno::SRCH) => break,
            Ok(()) => {
                let left: Vec<i32> = process_table()
                    .into_iter()
                    .filter(|(_, _, pid_group)| *pid_group == leader)
                    .map(|(pid, ..)| pid)
                    .collect();
                assert!(
                    Instant::now() < deadline,
                    "processes of the dropped driver's group remain: {left:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("signalling the driver's group: {error}"),
        }
    }
    drop(browser);
}
