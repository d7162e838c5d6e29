//! The inventory (`tokrot.toml`): which tokens exist and where each one is used, so that nobody
//! has to remember the consumers at rotation time. Validated like a runbook (`file:line:col`
//! errors): every credential names a rotate runbook, parameters it takes with values of the
//! right type, and targets that parse; names are unique; and nothing in it may look like a
//! token, since a team keeps the file in a repository. When a rotation gives its source a new
//! id, `set_param` rewrites that one value in place, keeping comments and layout.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::target::TargetSpec;
use crate::config::{is_cli_id, line_col};
use crate::runbook::validate::check_value;
use crate::runbook::{Catalogue, RunbookKind};

/// Where the inventory is looked for when `--inventory` is not given: `./tokrot.toml`, else
/// `$XDG_CONFIG_HOME/tokrot/inventory.toml`.
pub fn default_path() -> Option<PathBuf> {
    let here = PathBuf::from("tokrot.toml");
    if here.exists() {
        return Some(here);
    }
    crate::config::default_config_path()
        .and_then(|c| c.parent().map(|d| d.join("inventory.toml")))
        .filter(|p| p.exists())
}

/// The days before expiry from which a credential is due, when the file does not say.
pub const DEFAULT_ROTATE_BEFORE_DAYS: u32 = 14;

/// A team's inventory.
#[derive(Debug, Clone)]
pub struct Inventory {
    /// The file it was read from.
    pub path: PathBuf,
    /// A credential is due this many days before it expires.
    pub rotate_before_days: u32,
    /// The credentials, in file order.
    pub credentials: Vec<Credential>,
}

/// One credential of the inventory.
#[derive(Debug, Clone)]
pub struct Credential {
    /// Unique name (`rotate --credential NAME`).
    pub name: String,
    /// Its rotate runbook.
    pub runbook: String,
    /// The runbook's parameters, as the flags would give them.
    pub params: Vec<(String, String)>,
    /// Where the token is used.
    pub targets: Vec<TargetSpec>,
    /// Targets (by index) that may send the token to a host other than its own origin, and
    /// that host: `{ spec = "…", allow_host = "relay.example.com" }`, for a known relay.
    pub allow_hosts: std::collections::HashMap<usize, String>,
    /// Who owns it.
    pub owner: Option<String>,
    /// Anything worth knowing.
    pub notes: Option<String>,
}

impl Inventory {
    /// The credential that writes a target already, other than `except`.
    pub fn writer_of(&self, spec: &TargetSpec, except: &str) -> Option<&Credential> {
        let key = spec.identity();
        self.credentials
            .iter()
            .filter(|c| c.name != except)
            .find(|c| c.targets.iter().any(|t| t.identity() == key))
    }
}

impl Credential {
    /// A parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Inventory {
    /// A credential by name; the error lists the names there are.
    pub fn credential(&self, name: &str) -> Result<&Credential, InventoryError> {
        self.credentials
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| InventoryError::Unknown {
                name: name.to_owned(),
                path: self.path.clone(),
                known: self
                    .credentials
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// Why an inventory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// No file.
    #[error(
        "no inventory: pass --inventory FILE (or set TOKROT_INVENTORY), or create ./tokrot.toml"
    )]
    Missing,
    /// The file could not be read.
    #[error("cannot read the inventory {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Something in the file is wrong, and where.
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// No credential of that name.
    #[error("{path} has no credential `{name}`; it has: {known}")]
    Unknown {
        /// The name asked for.
        name: String,
        /// The file.
        path: PathBuf,
        /// The names it has.
        known: String,
    },
    /// The file could not be updated.
    #[error("cannot update the inventory {path}: {message}")]
    Update {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InventoryWire {
    #[serde(default)]
    defaults: Option<Spanned<DefaultsWire>>,
    #[serde(default)]
    credential: Vec<Spanned<CredentialWire>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DefaultsWire {
    rotate_before_days: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialWire {
    name: Spanned<String>,
    runbook: Spanned<String>,
    #[serde(default)]
    params: std::collections::BTreeMap<Spanned<String>, Spanned<String>>,
    /// Each a spec, or `{ spec = "…", allow_host = "HOST" }`.
    #[serde(default)]
    targets: Vec<Spanned<toml::Value>>,
    owner: Option<String>,
    notes: Option<String>,
}

struct Reader<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Reader<'_> {
    fn at(&self, span: Range<usize>, message: impl Into<String>) -> InventoryError {
        let (line, column) = line_col(self.text, span.start);
        InventoryError::Invalid {
            path: self.path.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }

    fn credential(
        &self,
        wire: Spanned<CredentialWire>,
        catalogue: &Catalogue,
    ) -> Result<Credential, InventoryError> {
        let span = wire.span();
        let w = wire.into_inner();
        let free_text = [w.owner.as_deref(), w.notes.as_deref()];
        if free_text
            .into_iter()
            .flatten()
            .any(crate::secret::looks_like_a_token)
        {
            return Err(self.at(
                span,
                "`owner` or `notes` looks like it holds a token; an inventory never holds a secret",
            ));
        }
        let name = w.name.get_ref();
        if !is_cli_id(name) {
            return Err(self.at(
                w.name.span(),
                format!("credential name `{name}` must be lowercase letters, digits and dashes"),
            ));
        }
        let runbook_id = w.runbook.get_ref();
        let Some(runbook) = catalogue.get(runbook_id) else {
            return Err(self.at(
                w.runbook.span(),
                format!(
                    "no runbook `{runbook_id}`; rotate runbooks: {}",
                    rotate_ids(catalogue)
                ),
            ));
        };
        if runbook.kind != RunbookKind::Rotate {
            return Err(self.at(
                w.runbook.span(),
                format!(
                    "`{runbook_id}` is a {} runbook; a credential names a rotate runbook: {}",
                    runbook.kind.as_str(),
                    rotate_ids(catalogue)
                ),
            ));
        }
        let params = self.params(&w.params, runbook)?;
        let (targets, allow_hosts) = self.targets(&w.targets)?;
        Ok(Credential {
            name: name.clone(),
            runbook: runbook_id.clone(),
            params,
            targets,
            allow_hosts,
            owner: w.owner,
            notes: w.notes,
        })
    }
}

impl Reader<'_> {
    /// A credential's parameters: each one the runbook takes, of its type, and no secret.
    fn params(
        &self,
        wire: &std::collections::BTreeMap<Spanned<String>, Spanned<String>>,
        runbook: &crate::runbook::Runbook,
    ) -> Result<Vec<(String, String)>, InventoryError> {
        let mut params = Vec::new();
        for (key_at, value) in wire {
            let key = key_at.get_ref();
            let Some(param) = runbook.param(key) else {
                let known: Vec<&str> = runbook.params.iter().map(|p| p.name.as_str()).collect();
                return Err(self.at(
                    key_at.span(),
                    format!(
                        "`{}` has no parameter `{key}`; it has: {}",
                        runbook.id,
                        known.join(", ")
                    ),
                ));
            };
            if crate::secret::looks_like_a_token(value.get_ref()) {
                return Err(self.at(
                    value.span(),
                    format!("`{key}` looks like a token; an inventory never holds a secret"),
                ));
            }
            check_value(&param.ty, value.get_ref())
                .map_err(|why| self.at(value.span(), format!("`{key}` {why}")))?;
            params.push((key.clone(), value.get_ref().clone()));
        }
        Ok(params)
    }

    /// A credential's targets: each one a spec (or a table with `spec` and `allow_host`),
    /// once, and no secret.
    #[allow(clippy::type_complexity)]
    fn targets(
        &self,
        wire: &[Spanned<toml::Value>],
    ) -> Result<(Vec<TargetSpec>, std::collections::HashMap<usize, String>), InventoryError> {
        let mut targets = Vec::new();
        let mut allow = std::collections::HashMap::new();
        for t in wire {
            let (text, host) = match t.get_ref() {
                toml::Value::String(s) => (s.as_str(), None),
                toml::Value::Table(table) => {
                    if let Some(k) = table.keys().find(|k| *k != "spec" && *k != "allow_host") {
                        return Err(self.at(
                            t.span(),
                            format!("a target table takes `spec` and `allow_host`, not `{k}`"),
                        ));
                    }
                    let spec =
                        table
                            .get("spec")
                            .and_then(toml::Value::as_str)
                            .ok_or_else(|| {
                                self.at(
                                    t.span(),
                                    "a target table needs `spec`, a target as a string",
                                )
                            })?;
                    let host = match table.get("allow_host") {
                        None => None,
                        Some(toml::Value::String(h)) if valid_host(h) => {
                            Some(h.to_ascii_lowercase())
                        }
                        Some(_) => {
                            return Err(self.at(
                                t.span(),
                                "`allow_host` is a host name, such as relay.example.com (no scheme, path or port)",
                            ));
                        }
                    };
                    (spec, host)
                }
                _ => {
                    return Err(self.at(
                        t.span(),
                        "a target is a spec string or { spec = \"…\", allow_host = \"…\" }",
                    ));
                }
            };
            if crate::secret::looks_like_a_token(text) {
                return Err(self.at(
                    t.span(),
                    "a target looks like it holds a token; an inventory never holds a secret",
                ));
            }
            let spec: TargetSpec = text
                .parse()
                .map_err(|e| self.at(t.span(), format!("{e}")))?;
            if targets.contains(&spec) {
                return Err(self.at(t.span(), format!("target `{spec}` is listed twice")));
            }
            if let Some(h) = host {
                allow.insert(targets.len(), h);
            }
            targets.push(spec);
        }
        Ok((targets, allow))
    }
}

/// A host name as `allow_host` takes it: letters, digits, dots and hyphens.
fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
}

/// Whether two credentials name one source token (their parameters but the new expiry alike).
fn same_source(a: &Credential, b: &Credential) -> bool {
    let identity = |c: &Credential| {
        let mut p: Vec<&(String, String)> =
            c.params.iter().filter(|(k, _)| k != "expires_at").collect();
        p.sort();
        p.into_iter().cloned().collect::<Vec<_>>()
    };
    a.runbook == b.runbook && identity(a) == identity(b)
}

fn rotate_ids(catalogue: &Catalogue) -> String {
    catalogue
        .iter()
        .filter(|r| r.kind == RunbookKind::Rotate)
        .map(|r| r.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses and checks an inventory's text; `path` is how errors name it.
pub fn parse(path: &Path, text: &str, catalogue: &Catalogue) -> Result<Inventory, InventoryError> {
    let reader = Reader { path, text };
    let wire: InventoryWire = toml::from_str(text)
        .map_err(|e| reader.at(e.span().unwrap_or(0..0), e.message().trim().to_owned()))?;
    let mut rotate_before_days = DEFAULT_ROTATE_BEFORE_DAYS;
    if let Some(days) = wire
        .defaults
        .and_then(|d| d.into_inner().rotate_before_days)
    {
        rotate_before_days = u32::try_from(*days.get_ref())
            .ok()
            .filter(|d| *d <= 365)
            .ok_or_else(|| reader.at(days.span(), "rotate_before_days must be 0 to 365"))?;
    }
    let mut credentials: Vec<Credential> = Vec::new();
    for c in wire.credential {
        let name_span = c.get_ref().name.span();
        let target_spans: Vec<_> = c.get_ref().targets.iter().map(|t| t.span()).collect();
        let credential = reader.credential(c, catalogue)?;
        if credentials.iter().any(|k| k.name == credential.name) {
            return Err(reader.at(
                name_span,
                format!("credential `{}` is listed twice", credential.name),
            ));
        }
        // Two entries for one token would rotate it twice: GitLab revokes the whole family then.
        if let Some(twin) = credentials.iter().find(|k| same_source(k, &credential)) {
            return Err(reader.at(
                name_span,
                format!(
                    "credential `{}` names the same token as `{}`; list it once, with all its targets",
                    credential.name, twin.name
                ),
            ));
        }
        // Two credentials writing one target: the target ends with one new token, and the
        // other's is in no target once its run clears the keyring.
        for (spec, span) in credential.targets.iter().zip(target_spans) {
            let key = spec.identity();
            if let Some(other) = credentials
                .iter()
                .find(|k| k.targets.iter().any(|t| t.identity() == key))
            {
                return Err(reader.at(
                    span,
                    format!(
                        "target `{spec}` is written by both `{}` and `{}`: it can hold only one token, and the other would be lost; give each target one credential",
                        other.name, credential.name
                    ),
                ));
            }
        }
        credentials.push(credential);
    }
    Ok(Inventory {
        path: path.to_path_buf(),
        rotate_before_days,
        credentials,
    })
}

/// Reads the inventory at `explicit` (`--inventory`), else where it is looked for.
pub fn load(explicit: Option<&Path>, catalogue: &Catalogue) -> Result<Inventory, InventoryError> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => default_path().ok_or(InventoryError::Missing)?,
    };
    let text = read_bounded(&path).map_err(|source| InventoryError::Read {
        path: path.clone(),
        source,
    })?;
    parse(&path, &text, catalogue)
}

/// The largest inventory read: far beyond any team's, small enough that a wrong path (a device,
/// a log) is refused rather than read.
const MAX_INVENTORY: u64 = 1 << 20;

/// Reads an inventory that is a plain file of at most `MAX_INVENTORY` bytes: a FIFO or a device
/// would hang `status` and every completion, a huge file would fill memory.
pub(crate) fn read_bounded(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    // Opened without blocking (a FIFO would wait for a writer), then checked for what it is.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a plain file",
        ));
    }
    let mut text = String::new();
    file.take(MAX_INVENTORY + 1).read_to_string(&mut text)?;
    if text.len() as u64 > MAX_INVENTORY {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "larger than 1 MiB",
        ));
    }
    Ok(text)
}

/// Writes a credential's new id into the inventory (`set_param`), one writer at a time: the
/// runs of one `rotate --due` finish side by side, each rewriting the same file.
pub fn record_new_id(
    state_dir: &Path,
    path: &Path,
    credential: &str,
    param: &str,
    rotated: Option<&str>,
    value: &str,
) -> Result<Option<String>, InventoryError> {
    let _held = lock(state_dir, path)?;
    let path = real_path(path);
    // Read under the lock: only an entry that still names the token rotated is pointed at its
    // successor (one a teammate re-pointed meanwhile is theirs; one already updated stays).
    if let Some(rotated) = rotated {
        let now = param_of(&path, credential, param)?;
        if now.as_deref() == Some(value) {
            return Ok(now);
        }
        if now.as_deref() != Some(rotated) {
            return Err(InventoryError::Update {
                path: path.clone(),
                message: format!(
                    "credential `{credential}` names {param} {} now, not the rotated {rotated} (changed since the rotation began); it was left as it is",
                    now.as_deref().unwrap_or("(unset)")
                ),
            });
        }
    }
    set_param(&path, credential, param, value)
}

/// An inventory's text as `toml_edit` reads it, and how to write it back as it was: its byte
/// order mark and its line ends (a file kept with CRLF stays CRLF).
struct Edited {
    doc: toml_edit::DocumentMut,
    bom: bool,
    crlf: bool,
}

impl Edited {
    fn read(path: &Path) -> Result<Self, String> {
        let text = read_bounded(path).map_err(|e| e.to_string())?;
        let bom = text.starts_with('\u{feff}');
        let body = text.strip_prefix('\u{feff}').unwrap_or(&text);
        Ok(Self {
            doc: body.parse().map_err(|e| format!("{e}"))?,
            bom,
            // CRLF only when every line ends so: one pasted CRLF does not turn a file over.
            crlf: text.contains("\r\n")
                && text.matches("\r\n").count() == text.matches('\n').count(),
        })
    }

    fn text(&self) -> String {
        let mut out = self.doc.to_string();
        if self.crlf {
            out = out.replace("\r\n", "\n").replace('\n', "\r\n");
        }
        if self.bom {
            out.insert(0, '\u{feff}');
        }
        out
    }

    /// The `params` of the credential named so, whichever way the file writes its entries
    /// (`[[credential]]` tables or an inline array `credential = [{ … }]`), and whichever way
    /// it writes `params` (inline, a table, dotted keys).
    fn params_mut(&mut self, credential: &str) -> Result<ParamsMut<'_>, String> {
        let named = |name: Option<&str>| name == Some(credential);
        match self.doc.get_mut("credential") {
            Some(toml_edit::Item::ArrayOfTables(entries)) => {
                let entry = entries
                    .iter_mut()
                    .find(|t| named(t.get("name").and_then(|n| n.as_str())))
                    .ok_or_else(|| format!("no credential `{credential}`"))?;
                let params = entry.entry("params").or_insert(toml_edit::Item::Value(
                    toml_edit::Value::InlineTable(toml_edit::InlineTable::new()),
                ));
                match params {
                    toml_edit::Item::Value(toml_edit::Value::InlineTable(t)) => {
                        Ok(ParamsMut::Inline(t))
                    }
                    toml_edit::Item::Table(t) => Ok(ParamsMut::Table(t)),
                    _ => Err("`params` is neither a table nor an inline table".into()),
                }
            }
            Some(toml_edit::Item::Value(toml_edit::Value::Array(entries))) => {
                let entry = entries
                    .iter_mut()
                    .filter_map(toml_edit::Value::as_inline_table_mut)
                    .find(|t| named(t.get("name").and_then(|n| n.as_str())))
                    .ok_or_else(|| format!("no credential `{credential}`"))?;
                if entry.get("params").is_none() {
                    entry.insert(
                        "params",
                        toml_edit::Value::InlineTable(toml_edit::InlineTable::new()),
                    );
                }
                match entry.get_mut("params") {
                    Some(toml_edit::Value::InlineTable(t)) => Ok(ParamsMut::Inline(t)),
                    _ => Err("`params` is not an inline table".into()),
                }
            }
            _ => Err("no credential entries".into()),
        }
    }
}

/// A credential's `params`, as the file writes them.
enum ParamsMut<'a> {
    Inline(&'a mut toml_edit::InlineTable),
    Table(&'a mut toml_edit::Table),
}

impl ParamsMut<'_> {
    fn get(&self, param: &str) -> Option<String> {
        match self {
            ParamsMut::Inline(t) => t.get(param).and_then(|v| v.as_str()).map(str::to_owned),
            ParamsMut::Table(t) => t.get(param).and_then(|v| v.as_str()).map(str::to_owned),
        }
    }

    /// Sets a value, keeping the comment and spacing around the old one.
    fn set(&mut self, param: &str, value: &str) {
        let keep = |old: &mut toml_edit::Value| {
            let decor = old.decor().clone();
            *old = toml_edit::Value::from(value);
            *old.decor_mut() = decor;
        };
        match self {
            ParamsMut::Inline(t) => match t.get_mut(param) {
                Some(v) => keep(v),
                None => {
                    t.insert(param, toml_edit::Value::from(value));
                }
            },
            ParamsMut::Table(t) => match t.get_mut(param).and_then(toml_edit::Item::as_value_mut) {
                Some(v) => keep(v),
                None => {
                    t[param] = toml_edit::value(value);
                }
            },
        }
    }
}

/// The file a path names, through a link.
fn real_path(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// One writer of an inventory at a time, across processes.
fn lock(state_dir: &Path, path: &Path) -> Result<std::fs::File, InventoryError> {
    let key = format!("inventory:{}", real_path(path).display());
    crate::state::lock::wait_for(state_dir, &key).map_err(|e| InventoryError::Update {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// The value one parameter of one credential has in the file now.
pub fn param_of(
    path: &Path,
    credential: &str,
    param: &str,
) -> Result<Option<String>, InventoryError> {
    let failed = |message: String| InventoryError::Update {
        path: path.to_path_buf(),
        message,
    };
    let mut edited = Edited::read(path).map_err(failed)?;
    Ok(edited.params_mut(credential).map_err(failed)?.get(param))
}

/// Sets one parameter of one credential in the file, keeping its comments, layout, line ends
/// and byte order mark (`toml_edit`), and writes it back atomically; the old value is returned.
pub fn set_param(
    path: &Path,
    credential: &str,
    param: &str,
    value: &str,
) -> Result<Option<String>, InventoryError> {
    let failed = |message: String| InventoryError::Update {
        path: path.to_path_buf(),
        message,
    };
    let mut edited = Edited::read(path).map_err(failed)?;
    let mut params = edited.params_mut(credential).map_err(failed)?;
    let old = params.get(param);
    params.set(param, value);
    replace_keeping_mode(path, edited.text().as_bytes()).map_err(|e| failed(e.to_string()))?;
    Ok(old)
}

/// Adds drafted entries (TOML text) to the end of an inventory, creating it if need be; what is
/// there is kept as it is, and the whole must still check, else nothing is written.
pub fn append(
    state_dir: &Path,
    path: &Path,
    text: &str,
    catalogue: &Catalogue,
) -> Result<Inventory, InventoryError> {
    let failed = |message: String| InventoryError::Update {
        path: path.to_path_buf(),
        message,
    };
    let _held = lock(state_dir, path)?;
    // A link is written through: the file it names is the team's.
    let path = &real_path(path);
    let before = match read_bounded(path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(failed(e.to_string())),
    };
    let old = match &before {
        Some(t) => parse(path, t, catalogue)?.credentials.len(),
        None => 0,
    };
    let added = parse(path, text, catalogue)?.credentials.len();
    let mut whole = before.clone().unwrap_or_default();
    let crlf = whole.contains("\r\n");
    if !whole.is_empty() && !whole.ends_with('\n') {
        whole.push_str(if crlf { "\r\n" } else { "\n" });
    }
    whole.push_str(&if crlf {
        text.replace('\n', "\r\n")
    } else {
        text.to_owned()
    });
    let checked = parse(path, &whole, catalogue)?;
    // Nothing in the drafts may have changed what was there (text that reads as more TOML).
    if checked.credentials.len() != old + added {
        return Err(failed(
            "the drafts do not add up to whole entries; nothing was written".into(),
        ));
    }
    match before {
        Some(_) => replace_keeping_mode(path, whole.as_bytes()),
        None => std::fs::write(path, whole.as_bytes()),
    }
    .map_err(|e| failed(e.to_string()))?;
    Ok(checked)
}

/// Replaces a file atomically (a temporary file beside it, fsync, rename), keeping its mode: the
/// inventory lives in a team's repository, not in the state dir.
fn replace_keeping_mode(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mode = std::fs::metadata(path)?.permissions();
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.as_file().set_permissions(mode)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `text`, sets `token_id` of `sync` to 5001, and returns the file's new text.
    fn rewritten(text: &str) -> (Option<String>, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokrot.toml");
        std::fs::write(&path, text).unwrap();
        let old = set_param(&path, "sync", "token_id", "5001").unwrap();
        (old, std::fs::read_to_string(&path).unwrap())
    }

    #[test]
    fn a_rewrite_changes_the_one_value_whatever_the_file_looks_like() {
        let tables = "[[credential]]\nname = \"sync\"\nparams = { token_id = \"42\" } # the bot\n";
        assert_eq!(
            rewritten(tables),
            (Some("42".into()), tables.replace("\"42\"", "\"5001\""))
        );
        // Line ends and a byte order mark are kept.
        let crlf = format!("\u{feff}{}", tables.replace('\n', "\r\n"));
        assert_eq!(rewritten(&crlf).1, crlf.replace("\"42\"", "\"5001\""));
        // A comment after a dotted value is kept.
        let dotted =
            "[[credential]]\nname = \"sync\"\nparams.token_id = \"42\"   # rotated monthly\n";
        assert_eq!(rewritten(dotted).1, dotted.replace("\"42\"", "\"5001\""));
        // An inline array of entries is rewritten too, the other entry untouched.
        let inline = "credential = [\n  { name = \"other\", params = { token_id = \"42\" } },\n  { name = \"sync\", params = { token_id = \"42\" } },\n]\n";
        assert_eq!(
            rewritten(inline).1,
            inline.replace(
                "{ name = \"sync\", params = { token_id = \"42\" } }",
                "{ name = \"sync\", params = { token_id = \"5001\" } }"
            )
        );
    }

    #[test]
    fn a_new_id_is_written_only_while_the_entry_names_the_rotated_token() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokrot.toml");
        // A teammate pointed the entry at another token while the rotation ran.
        let edited = "[[credential]]\nname = \"sync\"\nparams = { token_id = \"777\" }\n";
        std::fs::write(&path, edited).unwrap();
        let err = record_new_id(dir.path(), &path, "sync", "token_id", Some("42"), "5001")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("names token_id 777 now, not the rotated 42"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), edited);
        // Still naming the rotated token: rewritten; already rewritten: left as it is.
        std::fs::write(&path, edited.replace("777", "42")).unwrap();
        let old = record_new_id(dir.path(), &path, "sync", "token_id", Some("42"), "5001").unwrap();
        assert_eq!(old.as_deref(), Some("42"));
        let again =
            record_new_id(dir.path(), &path, "sync", "token_id", Some("42"), "5001").unwrap();
        assert_eq!(again.as_deref(), Some("5001"));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            edited.replace("777", "5001")
        );
    }

    #[test]
    fn an_inventory_that_is_no_plain_file_or_too_large_is_refused_without_reading_it() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo.toml");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let err = read_bounded(&fifo).unwrap_err();
        assert!(err.to_string().contains("not a plain file"), "{err}");
        let big = dir.path().join("big.toml");
        std::fs::write(&big, "#".repeat((MAX_INVENTORY + 1) as usize)).unwrap();
        assert!(
            read_bounded(&big)
                .unwrap_err()
                .to_string()
                .contains("1 MiB")
        );
    }
}
