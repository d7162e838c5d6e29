//! The hermetic environment every test runs the binary in.

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use std::time::Duration;

use assert_cmd::Command;
use expectrl::process::unix::WaitStatus;
use expectrl::{Eof, Expect, Session};
use tempfile::TempDir;

/// A temporary HOME with XDG dirs inside it, and nothing else.
pub struct Env {
    pub home: TempDir,
}

impl Env {
    pub fn new() -> Self {
        Self {
            home: tempfile::tempdir().unwrap(),
        }
    }

    /// `tokrot` with a cleared environment: HOME, XDG dirs, PATH, no colour, no credentials.
    pub fn tokrot(&self) -> Command {
        Command::from_std(self.process())
    }

    /// The binary as a plain process (to run in the background or to signal), with the same
    /// cleared environment as [`Env::tokrot`].
    pub fn process(&self) -> std::process::Command {
        self.command(env!("CARGO_BIN_EXE_tokrot"))
    }

    /// Any program (a shell running a CI job's script) in the same cleared environment.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> std::process::Command {
        let mut cmd = std::process::Command::new(program);
        cmd.env_clear()
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join(".config"))
            .env("XDG_STATE_HOME", self.home.path().join(".local/state"))
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("NO_COLOR", "1")
            .envs(clock());
        cmd
    }

    /// `tokrot --gitlab-url URL --yes`, with `token` as its GitLab credential.
    pub fn unattended_on(&self, gitlab_url: &str, token: &str) -> Command {
        let mut cmd = self.tokrot();
        cmd.env("GITLAB_TOKEN", token)
            .args(["--gitlab-url", gitlab_url, "--yes"]);
        cmd
    }

    /// The id of the latest run in the journal, as `history --output json` gives it.
    pub fn latest_run(&self) -> String {
        let history = self
            .tokrot()
            .args(["--output", "json", "history"])
            .output()
            .unwrap();
        let doc = json_doc(&history);
        let runs = doc["runs"].as_array().unwrap();
        runs.last().unwrap()["id"].as_str().unwrap().to_owned()
    }

    pub fn path(&self) -> &Path {
        self.home.path()
    }

    /// Writes a file under HOME and returns its path.
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.home.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    /// Every file under HOME (a run that changes nothing leaves none behind).
    pub fn files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    out.push(p);
                }
            }
        }
        let mut out = Vec::new();
        walk(self.home.path(), &mut out);
        out
    }
}

/// The clock the tests run on, passed to the binary: a suite run under libfaketime
/// (`faketime -f +400d cargo test`) runs the binary on the same shifted clock, so a date the
/// code computes and a date a test computes come from one clock.
pub fn clock() -> Vec<(String, String)> {
    std::env::vars()
        .filter(|(k, _)| k == "LD_PRELOAD" || k.starts_with("FAKETIME"))
        .collect()
}

/// Today, on the clock the binary runs on (UTC, as the vendors date tokens).
pub fn today() -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
}

/// `today() + days`, as `YYYY-MM-DD`.
pub fn day(days: i64) -> String {
    today()
        .checked_add(jiff::Span::new().days(days))
        .unwrap()
        .to_string()
}

/// The runbook fixtures of the test suite.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// A loopback port that records whether anything connected to it.
pub struct Tripwire {
    listener: TcpListener,
}

impl Tripwire {
    pub fn new() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Self { listener }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.listener.local_addr().unwrap())
    }

    /// Whether a connection was made.
    pub fn tripped(&self) -> bool {
        match self.listener.accept() {
            Ok(_) => true,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => false,
            Err(e) => panic!("{e}"),
        }
    }
}

pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every embedded runbook, in the order `tokrot list` shows them.
pub const IDS: [&str; 14] = [
    "zendesk-api",
    "zendesk-oauth",
    "zendesk-webhook-secret",
    "gitlab-pat",
    "gitlab-project-token",
    "gitlab-group-token",
    "gitlab-trigger",
    "gitlab-trigger-bot",
    "zendesk-app",
    "zendesk-webhook",
    "gitlab-ci-var",
    "gitlab-webhook",
    "gitlab-instance-var",
    "zendesk-oauth-integration",
];

/// A shell line that gives the pseudo-terminal `cols` columns and `rows` rows before what follows
/// runs. The harness sets its own default size from the parent just after the child starts, so
/// a size set at once could be overwritten: the line waits until the harness has set its own,
/// then sets this one and checks it took.
pub fn sized(cols: usize, rows: usize) -> String {
    format!(
        "sleep 0.3; stty cols {cols} rows {rows}; [ \"$(stty size)\" = \"{rows} {cols}\" ] || exit 97"
    )
}

/// A session of the real binary on a pseudo-terminal, keeping everything it printed.
pub struct Pty {
    session: expectrl::session::OsSession,
    screen: String,
}

impl Pty {
    pub fn spawn(env: &Env, args: &[&str]) -> Self {
        Self::spawn_with(env, args, &[])
    }

    pub fn spawn_with(env: &Env, args: &[&str], vars: &[(&str, &str)]) -> Self {
        Self::spawn_program(env, env!("CARGO_BIN_EXE_tokrot"), args, vars)
    }

    /// Any program (a shell that runs tokrot with a redirection) on the pseudo-terminal, in the
    /// same hermetic environment.
    pub fn spawn_program(env: &Env, program: &str, args: &[&str], vars: &[(&str, &str)]) -> Self {
        let mut cmd = std::process::Command::new(program);
        cmd.args(args)
            .env_clear()
            .env("HOME", env.path())
            .env("XDG_CONFIG_HOME", env.path().join(".config"))
            .env("XDG_STATE_HOME", env.path().join(".local/state"))
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("TERM", "xterm")
            .env("NO_COLOR", "1")
            // No pager unless a test asks for one (whether `less` is installed varies).
            .env("PAGER", "cat")
            .envs(clock())
            .envs(vars.iter().copied());
        let mut session = Session::spawn(cmd).unwrap();
        session.set_expect_timeout(Some(Duration::from_secs(20)));
        Self {
            session,
            screen: String::new(),
        }
    }

    pub fn expect(&mut self, text: &str) {
        let found = self.session.expect(text).unwrap_or_else(|e| {
            panic!("waiting for {text:?}: {e}\nscreen so far:\n{}", self.screen)
        });
        self.screen
            .push_str(&String::from_utf8_lossy(found.before()));
        for m in found.matches() {
            self.screen.push_str(&String::from_utf8_lossy(m));
        }
    }

    /// Waits for a prompt, then answers. The pause matters: the terminal drops keys typed
    /// while a prompt switches echo off.
    pub fn answer(&mut self, prompt: &str, keys: &str) {
        self.expect(prompt);
        std::thread::sleep(Duration::from_millis(150));
        self.session.send(keys).unwrap();
    }

    /// Waits for a prompt, then presses `keys` until `reaction` shows: a key typed while the
    /// prompt switches the terminal's mode can be dropped, and a loaded machine is slow to
    /// switch.
    pub fn press_until(&mut self, prompt: &str, keys: &str, reaction: &str) {
        self.expect(prompt);
        for _ in 0..10 {
            std::thread::sleep(Duration::from_millis(150));
            self.session.send(keys).unwrap();
            self.session
                .set_expect_timeout(Some(Duration::from_secs(3)));
            let found = self.session.expect(reaction);
            self.session
                .set_expect_timeout(Some(Duration::from_secs(20)));
            if let Ok(found) = found {
                self.screen
                    .push_str(&String::from_utf8_lossy(found.before()));
                for m in found.matches() {
                    self.screen.push_str(&String::from_utf8_lossy(m));
                }
                return;
            }
        }
        panic!("{reaction:?} never showed\nscreen so far:\n{}", self.screen);
    }

    pub fn send(&mut self, keys: &str) {
        self.session.send(keys).unwrap();
    }

    pub fn finish(mut self) -> (i32, String) {
        let rest = self.session.expect(Eof).unwrap();
        self.screen
            .push_str(&String::from_utf8_lossy(rest.before()));
        for m in rest.matches() {
            self.screen.push_str(&String::from_utf8_lossy(m));
        }
        let code = match self.session.get_process().wait().unwrap() {
            WaitStatus::Exited(_, code) => code,
            // Ended by a signal, as a shell reports it.
            WaitStatus::Signaled(_, sig, _) => 128 + sig as i32,
            other => panic!("unexpected end: {other:?}\n{}", self.screen),
        };
        (code, self.screen)
    }
}

/// Fails when the word CANARY, which every secret of the tests holds, is in any of `texts` or in
/// any file under HOME (the state dir, the config, the journals are there).
pub fn assert_no_canary_in(env: &Env, texts: &[&str]) {
    for text in texts {
        assert!(!text.contains("CANARY"), "a secret was shown:\n{text}");
    }
    for f in env.files() {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
        assert!(
            !text.contains("CANARY"),
            "{} holds a secret:\n{text}",
            f.display()
        );
    }
}

/// `assert_no_canary_in` for what processes printed.
pub fn assert_no_canary(env: &Env, outputs: &[&std::process::Output]) {
    let texts: Vec<String> = outputs
        .iter()
        .flat_map(|o| [stdout(o), stderr(o)])
        .collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    assert_no_canary_in(env, &texts);
}

/// Every request a stand-in got, `METHOD path`, in order.
pub async fn requests(server: &wiremock::MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .expect("the stand-in records requests")
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect()
}

/// The writes (every method but GET) a stand-in got, `METHOD path`, in order.
pub async fn writes(server: &wiremock::MockServer) -> Vec<String> {
    let all = requests(server).await;
    all.into_iter().filter(|r| !r.starts_with("GET ")).collect()
}

/// How many `method path` requests a stand-in got.
pub async fn count(server: &wiremock::MockServer, method: &str, path: &str) -> usize {
    let want = format!("{method} {path}");
    requests(server)
        .await
        .iter()
        .filter(|r| **r == want)
        .count()
}

/// Fails when `text` holds any of `secrets`, or any 8-character piece of one: a cut that kept
/// part of a token shows part of it.
pub fn assert_no_piece(what: &str, text: &str, secrets: &[&str]) {
    for secret in secrets {
        let chars: Vec<char> = secret.chars().collect();
        for piece in chars.windows(8.min(chars.len())) {
            let piece: String = piece.iter().collect();
            assert!(
                !text.contains(&piece),
                "{what} holds `{piece}`, a piece of a secret:\n{text}"
            );
        }
    }
}

/// Every file under HOME and the outputs, scanned for a secret or a piece of one.
pub fn scan(env: &Env, outputs: &[&std::process::Output], secrets: &[&str]) {
    for out in outputs {
        assert_no_piece("stdout", &stdout(out), secrets);
        assert_no_piece("stderr", &stderr(out), secrets);
    }
    for file in env.files() {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        assert_no_piece(&file.display().to_string(), &text, secrets);
    }
}

/// The schema every `--output json` document follows.
fn schema() -> &'static serde_json::Value {
    static SCHEMA: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/tokrot.schema.json");
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
    })
}

/// Fails unless `doc` is a document of `schema/tokrot.schema.json`.
pub fn assert_valid(doc: &serde_json::Value) {
    if let Err(e) = validate(doc) {
        panic!("{e}");
    }
}

/// Whether `doc` is a document of `schema/tokrot.schema.json`; if not, the document kind it
/// came closest to and what it breaks there.
pub fn validate(doc: &serde_json::Value) -> Result<(), String> {
    let root = jsonschema::validator_for(schema()).unwrap();
    if root.is_valid(doc) {
        return Ok(());
    }
    let defs = schema()["$defs"].as_object().unwrap();
    let mut closest: Option<(usize, String, Vec<String>)> = None;
    for name in defs
        .keys()
        .filter(|k| k.ends_with("Document") || k.ends_with("Report"))
    {
        let one = serde_json::json!({"$ref": format!("#/$defs/{name}"), "$defs": defs});
        let v = jsonschema::validator_for(&one).unwrap();
        let errors: Vec<String> = v
            .iter_errors(doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if closest.as_ref().is_none_or(|(n, _, _)| errors.len() < *n) {
            closest = Some((errors.len(), name.clone(), errors));
        }
    }
    let (_, name, errors) = closest.unwrap();
    Err(format!(
        "not a document of the schema; closest is {name}:\n  {}\n{doc:#}",
        errors.join("\n  ")
    ))
}

/// The one JSON document a command printed on stdout, checked against the schema.
pub fn json_doc(out: &std::process::Output) -> serde_json::Value {
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{}\n{}",
            stdout(out),
            stderr(out)
        )
    });
    assert_valid(&doc);
    doc
}
