//! Instances and user configuration: the built-in Zendesk instances and GitLab URL, the optional
//! config file that adds or overrides them, and the URL rule every base URL must pass.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use url::Url;

/// The GitLab every command talks to unless `--gitlab-url`, `GITLAB_URL` or the config says otherwise.
pub const DEFAULT_GITLAB_URL: &str = "https://gitlab.com";

/// The four Zendesk instances of the handbook page: id, subdomain host, label.
const BUILT_IN_INSTANCES: [(&str, &str, &str); 4] = [
    ("global", "gitlab.zendesk.com", "Zendesk Global"),
    (
        "global-sandbox",
        "gitlab1707170878.zendesk.com",
        "Zendesk Global Sandbox",
    ),
    (
        "us-gov",
        "gitlab-federal-support.zendesk.com",
        "Zendesk US Government",
    ),
    (
        "us-gov-sandbox",
        "gitlabfederalsupport1585318082.zendesk.com",
        "Zendesk US Government Sandbox",
    ),
];

/// A base URL that failed the URL rule (https only; http for loopback hosts).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UrlError {
    /// Not a URL at all.
    #[error("`{url}` is not a URL: {reason}")]
    Invalid {
        /// What was given.
        url: String,
        /// Why the parser refused it.
        reason: String,
    },
    /// `http://` to a host that is not on this machine.
    #[error(
        "`{url}` uses http:// to a host that is not loopback; use https:// (http:// is only allowed for localhost, 127.0.0.0/8 and ::1)"
    )]
    InsecureHttp {
        /// What was given.
        url: String,
    },
    /// Another scheme, e.g. `ftp://`.
    #[error("`{url}` must start with https://")]
    Scheme {
        /// What was given.
        url: String,
    },
    /// A user name or password inside the URL: credentials never go in a URL.
    #[error(
        "`{url}` carries a user name or password; credentials come from the environment or the keyring, never from a URL"
    )]
    Userinfo {
        /// What was given, with the credentials cut out.
        url: String,
    },
    /// A query string or fragment on a base URL.
    #[error("`{url}` is a base URL and cannot have a query or fragment")]
    QueryOrFragment {
        /// What was given.
        url: String,
    },
}

/// `raw` as it may be shown: whatever sits between `//` and the last `@` of the authority (a
/// user name or password) cut out, whether or not the rest parses as a URL.
fn shown(raw: &str) -> String {
    let raw = raw.trim();
    let Some((scheme, rest)) = raw.split_once("//") else {
        return raw.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}//***@{}", &rest[at + 1..]),
        None => raw.to_owned(),
    }
}

/// Checks a base URL against the URL rule and returns it without a trailing slash in its path.
/// No error shows a user name or password the text held.
pub fn parse_base_url(raw: &str) -> Result<Url, UrlError> {
    let text = shown(raw);
    let mut url = Url::parse(raw.trim()).map_err(|e| UrlError::Invalid {
        url: text.clone(),
        reason: e.to_string(),
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        let _ = url.set_username("");
        let _ = url.set_password(None);
        return Err(UrlError::Userinfo {
            url: url.to_string(),
        });
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(UrlError::QueryOrFragment { url: text });
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => return Err(UrlError::InsecureHttp { url: text }),
        _ => return Err(UrlError::Scheme { url: text }),
    }
    let trimmed = url.path().trim_end_matches('/').to_owned();
    url.set_path(&trimmed);
    Ok(url)
}

/// Whether the URL's host is this machine: `localhost`, 127.0.0.0/8 or ::1.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// The URL as text without the trailing slash `Url` adds to an empty path.
pub fn display_url(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_owned()
}

/// A Zendesk instance that tokrot can work on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// Short id used on the command line (`global`, `us-gov-sandbox`, …).
    pub id: String,
    /// The name the handbook gives it ("Zendesk Global"); used in trigger descriptions.
    pub label: String,
    /// Base URL, e.g. `https://gitlab.zendesk.com`.
    pub url: Url,
    /// Whether it comes from the built-in list (and not from the config file).
    pub built_in: bool,
    /// The config file that points this built-in id somewhere other than the built-in URL.
    pub repointed_by: Option<PathBuf>,
    /// The instance's API limit per minute (`requests_per_minute`, for its plan): calls are
    /// paced within it.
    pub requests_per_minute: Option<u64>,
}

impl Instance {
    /// The instance's Admin Center, the page the handbook starts from.
    pub fn admin_url(&self) -> String {
        format!("{}/admin", display_url(&self.url))
    }
}

/// Everything configurable about where tokrot talks to.
#[derive(Debug, Clone)]
pub struct Config {
    /// GitLab base URL.
    pub gitlab_url: Url,
    /// Zendesk instances by id, built-in and configured.
    pub instances: BTreeMap<String, Instance>,
    /// Extra runbooks directory named by the config file.
    pub runbooks_dir: Option<PathBuf>,
    /// The file this came from, if any.
    pub source: Option<PathBuf>,
    /// The config file that points GitLab somewhere other than gitlab.com (unless
    /// `--gitlab-url`/`GITLAB_URL` overrides it).
    pub gitlab_repointed_by: Option<PathBuf>,
    /// GitLab's API limit per minute (`[gitlab] requests_per_minute`): calls are paced within
    /// it.
    pub gitlab_requests_per_minute: Option<u64>,
}

/// gitlab.com's published limit for authenticated API calls, per user and minute: calls to
/// gitlab.com are paced within it unless the config says otherwise, since gitlab.com sends its
/// rate headers only with a 429.
pub const GITLAB_COM_REQUESTS_PER_MINUTE: u64 = 2000;

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but could not be read.
    #[error("cannot read the config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML, or has a key tokrot does not know.
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A URL in the file breaks the URL rule.
    #[error("{path}: {what}: {source}")]
    Url {
        /// The file.
        path: PathBuf,
        /// Which setting.
        what: String,
        /// The rule it breaks.
        source: UrlError,
    },
    /// A configured instance has an id that cannot be typed on a command line.
    #[error(
        "{path}: instance id `{id}` must be lowercase letters, digits and dashes (e.g. `staging`)"
    )]
    InstanceId {
        /// The file.
        path: PathBuf,
        /// The id.
        id: String,
    },
    /// `--gitlab-url` or `GITLAB_URL` breaks the URL rule.
    #[error("--gitlab-url: {0}")]
    GitLabUrl(UrlError),
    /// An unknown instance was named.
    #[error("unknown Zendesk instance `{id}`; known instances: {known}")]
    UnknownInstance {
        /// What was asked for.
        id: String,
        /// The known ids, comma separated.
        known: String,
    },
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ConfigWire {
    gitlab: Option<GitLabWire>,
    zendesk: Option<ZendeskWire>,
    runbooks: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct GitLabWire {
    url: Option<String>,
    #[serde(rename = "requests_per_minute", alias = "requests-per-minute", default)]
    requests_per_minute: Option<PerMinute>,
}

/// A limit per minute: a whole number of at least 1.
#[derive(Debug, Clone, Copy)]
struct PerMinute(u64);

impl<'de> Deserialize<'de> for PerMinute {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match u64::deserialize(d)? {
            0 => Err(serde::de::Error::custom(
                "requests_per_minute must be at least 1",
            )),
            n => Ok(Self(n)),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ZendeskWire {
    #[serde(default)]
    instances: BTreeMap<String, InstanceWire>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct InstanceWire {
    url: String,
    label: Option<String>,
    #[serde(rename = "requests_per_minute", alias = "requests-per-minute", default)]
    requests_per_minute: Option<PerMinute>,
}

/// Where the config file is looked for when `--config` is not given.
pub fn default_config_path() -> Option<PathBuf> {
    xdg_dir("XDG_CONFIG_HOME", ".config").map(|d| d.join("tokrot").join("config.toml"))
}

/// Where journals and the audit log go when `--state-dir` is not given.
pub fn default_state_dir() -> Option<PathBuf> {
    xdg_dir("XDG_STATE_HOME", ".local/state").map(|d| d.join("tokrot"))
}

fn xdg_dir(var: &str, fallback: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(v) if Path::new(&v).is_absolute() => Some(PathBuf::from(v)),
        _ => std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(fallback)),
    }
}

impl Config {
    /// The built-in configuration: gitlab.com and the four Zendesk instances.
    pub fn built_in() -> Self {
        let instances = BUILT_IN_INSTANCES
            .iter()
            .map(|(id, host, label)| {
                let url = Url::parse(&format!("https://{host}")).expect("built-in URL is valid");
                (
                    (*id).to_owned(),
                    Instance {
                        id: (*id).to_owned(),
                        label: (*label).to_owned(),
                        url,
                        built_in: true,
                        repointed_by: None,
                        requests_per_minute: None,
                    },
                )
            })
            .collect();
        Self {
            gitlab_url: Url::parse(DEFAULT_GITLAB_URL).expect("default GitLab URL is valid"),
            instances,
            runbooks_dir: None,
            source: None,
            gitlab_repointed_by: None,
            gitlab_requests_per_minute: None,
        }
    }

    /// Loads the config file. `explicit` is `--config`/`TOKROT_CONFIG`: it must exist; the
    /// default location may be absent.
    pub fn load(explicit: Option<&Path>) -> Result<Self, ConfigError> {
        let mut config = Self::built_in();
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => match default_config_path() {
                Some(p) if p.exists() => p,
                _ => return Ok(config),
            },
        };
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        config.merge(&path, &text)?;
        Ok(config)
    }

    /// The built-in configuration with the config file `text` (read from `path`) over it.
    pub fn from_text(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let mut config = Self::built_in();
        config.merge(path, text)?;
        Ok(config)
    }

    fn merge(&mut self, path: &Path, text: &str) -> Result<(), ConfigError> {
        let wire: ConfigWire = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
            ConfigError::Parse {
                path: path.to_path_buf(),
                line,
                column,
                message: e.message().to_owned(),
            }
        })?;
        let gitlab = wire.gitlab.unwrap_or(GitLabWire {
            url: None,
            requests_per_minute: None,
        });
        if let Some(n) = gitlab.requests_per_minute {
            self.gitlab_requests_per_minute = Some(n.0);
        }
        if let Some(url) = gitlab.url {
            self.gitlab_url = parse_base_url(&url).map_err(|source| ConfigError::Url {
                path: path.to_path_buf(),
                what: "gitlab.url".into(),
                source,
            })?;
            let default = Url::parse(DEFAULT_GITLAB_URL).expect("default GitLab URL is valid");
            self.gitlab_repointed_by =
                (self.gitlab_url.origin() != default.origin()).then(|| path.to_path_buf());
        }
        for (id, inst) in wire.zendesk.map(|z| z.instances).unwrap_or_default() {
            if !is_cli_id(&id) {
                return Err(ConfigError::InstanceId {
                    path: path.to_path_buf(),
                    id,
                });
            }
            let url = parse_base_url(&inst.url).map_err(|source| ConfigError::Url {
                path: path.to_path_buf(),
                what: format!("zendesk.instances.{id}.url"),
                source,
            })?;
            let label = inst.label.unwrap_or_else(|| format!("Zendesk {id}"));
            let repointed_by = BUILT_IN_INSTANCES
                .iter()
                .find(|(built_in, _, _)| *built_in == id)
                .filter(|(_, host, _)| {
                    url.origin()
                        != Url::parse(&format!("https://{host}"))
                            .expect("built-in URL is valid")
                            .origin()
                })
                .map(|_| path.to_path_buf());
            self.instances.insert(
                id.clone(),
                Instance {
                    id,
                    label,
                    url,
                    built_in: false,
                    repointed_by,
                    requests_per_minute: inst.requests_per_minute.map(|n| n.0),
                },
            );
        }
        if let Some(dir) = wire.runbooks {
            let base = path.parent().unwrap_or(Path::new("."));
            self.runbooks_dir = Some(base.join(dir));
        }
        self.source = Some(path.to_path_buf());
        Ok(())
    }

    /// Overrides the GitLab URL (from `--gitlab-url` or `GITLAB_URL`).
    pub fn set_gitlab_url(&mut self, raw: &str) -> Result<(), ConfigError> {
        self.gitlab_url = parse_base_url(raw).map_err(ConfigError::GitLabUrl)?;
        self.gitlab_repointed_by = None;
        Ok(())
    }

    /// Looks up an instance by id; the error lists the known ones.
    pub fn instance(&self, id: &str) -> Result<&Instance, ConfigError> {
        self.instances
            .get(id)
            .ok_or_else(|| ConfigError::UnknownInstance {
                id: id.to_owned(),
                known: self.instance_ids().join(", "),
            })
    }

    /// Known instance ids, built-in first in the handbook's order, then configured ones.
    pub fn instance_ids(&self) -> Vec<String> {
        self.ordered_instances()
            .into_iter()
            .map(|i| i.id.clone())
            .collect()
    }

    /// Instances in display order: the handbook's four first, then the configured ones by id.
    pub fn ordered_instances(&self) -> Vec<&Instance> {
        let mut out: Vec<&Instance> = BUILT_IN_INSTANCES
            .iter()
            .filter_map(|(id, _, _)| self.instances.get(*id))
            .collect();
        out.extend(
            self.instances
                .values()
                .filter(|i| !BUILT_IN_INSTANCES.iter().any(|(id, _, _)| *id == i.id)),
        );
        out
    }
}

/// Whether an id can be typed on a command line and used in a `--apply-to` spec.
pub fn is_cli_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.starts_with('-')
}

/// 1-based line and column of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_is_accepted_and_trailing_slash_dropped() {
        let url = parse_base_url("https://gitlab.example.com/").unwrap();
        assert_eq!(display_url(&url), "https://gitlab.example.com");
        let sub = parse_base_url("https://example.com/gitlab/").unwrap();
        assert_eq!(display_url(&sub), "https://example.com/gitlab");
    }

    #[test]
    fn http_only_for_loopback() {
        for ok in [
            "http://localhost:8080",
            "http://127.0.0.1:1234",
            "http://127.8.9.10",
            "http://[::1]:99",
        ] {
            assert!(parse_base_url(ok).is_ok(), "{ok} should be accepted");
        }
        for bad in [
            "http://gitlab.example.com",
            "http://10.0.0.1",
            "http://localhost.evil.com",
            "http://[::2]",
        ] {
            assert!(
                matches!(parse_base_url(bad), Err(UrlError::InsecureHttp { .. })),
                "{bad} should be refused"
            );
        }
    }

    #[test]
    fn other_schemes_credentials_and_queries_are_refused() {
        assert!(matches!(
            parse_base_url("ftp://example.com"),
            Err(UrlError::Scheme { .. })
        ));
        let err = parse_base_url("https://user:hunter2@example.com").unwrap_err();
        assert!(matches!(err, UrlError::Userinfo { .. }));
        assert!(!err.to_string().contains("hunter2"));
        for unparsable in [
            "https://oauth2:hunter2@gitlab.example.com:99999",
            "ftp://u:hunter2@x@y/z",
            "https://u:hunter2@exa mple.com",
        ] {
            let err = parse_base_url(unparsable).unwrap_err().to_string();
            assert!(!err.contains("hunter2"), "{err}");
        }
        assert!(matches!(
            parse_base_url("https://example.com/?a=b"),
            Err(UrlError::QueryOrFragment { .. })
        ));
        assert!(matches!(
            parse_base_url("not a url"),
            Err(UrlError::Invalid { .. })
        ));
    }

    #[test]
    fn config_adds_and_overrides_instances() {
        let mut config = Config::built_in();
        config
            .merge(
                Path::new("/etc/tokrot.toml"),
                r#"
                [gitlab]
                url = "https://gitlab.example.com"
                [zendesk.instances.staging]
                url = "https://example-staging.zendesk.com"
                label = "Zendesk Staging"
                [zendesk.instances.global]
                url = "http://127.0.0.1:9999"
                "#,
            )
            .unwrap();
        assert_eq!(
            display_url(&config.gitlab_url),
            "https://gitlab.example.com"
        );
        assert_eq!(config.instance("staging").unwrap().label, "Zendesk Staging");
        let global = config.instance("global").unwrap();
        assert_eq!(global.admin_url(), "http://127.0.0.1:9999/admin");
        assert!(!global.built_in);
        assert_eq!(
            global.repointed_by.as_deref(),
            Some(Path::new("/etc/tokrot.toml"))
        );
        assert_eq!(config.instance("staging").unwrap().repointed_by, None);
        assert_eq!(
            config.gitlab_repointed_by.as_deref(),
            Some(Path::new("/etc/tokrot.toml"))
        );
        assert_eq!(config.instance_ids()[0], "global");
        assert_eq!(config.instance_ids().last().unwrap(), "staging");
    }

    #[test]
    fn config_errors_are_located() {
        let mut config = Config::built_in();
        let err = config
            .merge(Path::new("c.toml"), "[gitlab]\nurl = \"x\"\ncolour = 1\n")
            .unwrap_err();
        match err {
            ConfigError::Parse { line, .. } => assert_eq!(line, 3),
            other => panic!("unexpected {other:?}"),
        }
        let err = config
            .merge(
                Path::new("c.toml"),
                "[zendesk.instances.x]\nurl = \"http://zendesk.example.com\"\n",
            )
            .unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Url {
                source: UrlError::InsecureHttp { .. },
                ..
            }
        ));
    }

    #[test]
    fn unknown_instance_lists_known_ones() {
        let err = Config::built_in().instance("nope").unwrap_err().to_string();
        assert!(
            err.contains("global, global-sandbox, us-gov, us-gov-sandbox"),
            "{err}"
        );
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }
}
