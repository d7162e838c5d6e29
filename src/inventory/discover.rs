//! `inventory discover`: inventory entries drafted from what the vendors list, reading no
//! secret, each consumer with how it was found — by the handbook's naming rule (a trigger's
//! description names its webhook, its app, its project or its job) or by value (a trigger token
//! the caller may read, found in a Zendesk webhook's endpoint or in a readable CI/CD variable;
//! compared in constant time, never printed, never kept).

use std::collections::BTreeSet;

use secrecy::SecretString;

use super::Inventory;
use super::naming::{NamedConsumer, consumer_of};
use super::source;
use super::status::Vendors;
use super::target::{self, TargetSpec};
use crate::clients::gitlab::{GitLab, Owner, Trigger, VarOwner};
use crate::config::Config;
use crate::secret::same;
use crate::text::one_line;

/// Where to look.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Projects (ids or paths).
    pub projects: Vec<String>,
    /// Groups.
    pub groups: Vec<String>,
    /// Zendesk instances.
    pub instances: Vec<String>,
}

/// A drafted credential.
#[derive(Debug, Clone)]
pub struct Draft {
    /// A name for it (unique in the draft and the inventory).
    pub name: String,
    /// Its rotate runbook.
    pub runbook: &'static str,
    /// The runbook's parameters.
    pub params: Vec<(&'static str, String)>,
    /// How the token was found.
    pub found: String,
    /// Consumers found, each with how.
    pub targets: Vec<(TargetSpec, String)>,
    /// Consumers found that need a value tokrot cannot know (the setting, the variable's key).
    pub todos: Vec<String>,
}

/// What discovery found, and the lists it could not read.
#[derive(Debug, Default)]
pub struct Found {
    /// The drafts, in the order found.
    pub drafts: Vec<Draft>,
    /// Lists that could not be read.
    pub notes: Vec<String>,
}

/// A name for a draft: lowercase letters, digits and dashes.
fn slug(text: &str) -> String {
    let s: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let parts: Vec<&str> = s.split('-').filter(|p| !p.is_empty()).collect();
    let joined = parts.join("-");
    if joined.is_empty() {
        "token".into()
    } else {
        joined.chars().take(48).collect()
    }
}

/// Whether the inventory already names this token: by its parameters, or (a token the
/// inventory names by name) by its name and owner.
fn known(
    inv: Option<&Inventory>,
    runbook: &str,
    params: &[(&str, String)],
    name: Option<&str>,
) -> bool {
    inv.is_some_and(|inv| {
        inv.credentials.iter().any(|c| {
            let all = params.iter().all(|(k, v)| c.param(k) == Some(v.as_str()));
            let by_name = name.is_some()
                && c.param("token_name") == name
                && params
                    .iter()
                    .filter(|(k, _)| *k != "token_id")
                    .all(|(k, v)| c.param(k) == Some(v.as_str()));
            c.runbook == runbook && (all || by_name)
        })
    })
}

/// Whose variables are searched by value.
#[derive(Debug, Clone)]
enum Holder {
    Project(String),
    Group(String),
    /// The instance's (administrators of a self-managed GitLab).
    Instance,
}

impl Holder {
    fn owner(&self) -> VarOwner<'_> {
        match self {
            Holder::Project(p) => VarOwner::Of(Owner::Project(p)),
            Holder::Group(g) => VarOwner::Of(Owner::Group(g)),
            Holder::Instance => VarOwner::Instance,
        }
    }

    fn name(&self) -> String {
        match self {
            Holder::Project(p) | Holder::Group(p) => p.clone(),
            Holder::Instance => "the instance".to_owned(),
        }
    }

    /// The target a variable of this holder is; `None` for a key `--apply-to` cannot name.
    fn target(&self, v: &crate::clients::gitlab::Variable) -> Option<TargetSpec> {
        let scope = ("environment_scope", v.environment_scope.as_str());
        let key = ("key", v.key.as_str());
        match self {
            Holder::Project(p) => {
                TargetSpec::from_pairs(&target::GITLAB_CI_VAR, &[("project", p), key, scope])
            }
            Holder::Group(g) => {
                TargetSpec::from_pairs(&target::GITLAB_GROUP_CI_VAR, &[("group", g), key, scope])
            }
            Holder::Instance => TargetSpec::from_pairs(&target::GITLAB_INSTANCE_VAR, &[key]),
        }
    }
}

struct Drafting<'a> {
    config: &'a Config,
    vendors: &'a Vendors<'a>,
    inventory: Option<&'a Inventory>,
    found: Found,
    names: BTreeSet<String>,
    /// The projects, groups (and, on a self-managed GitLab, the instance) in scope, whose
    /// variables are searched by value.
    scope_owners: Vec<Holder>,
}

impl Drafting<'_> {
    fn add(
        &mut self,
        base: &str,
        runbook: &'static str,
        params: Vec<(&'static str, String)>,
        found: String,
    ) -> Option<usize> {
        self.add_named(base, None, runbook, params, found)
    }

    /// A draft, unless the inventory names the token already (`token_name`: its name there).
    fn add_named(
        &mut self,
        base: &str,
        token_name: Option<&str>,
        runbook: &'static str,
        params: Vec<(&'static str, String)>,
        found: String,
    ) -> Option<usize> {
        if known(self.inventory, runbook, &params, token_name) {
            return None;
        }
        let taken = |n: &str| {
            self.names.contains(n)
                || self
                    .inventory
                    .is_some_and(|i| i.credentials.iter().any(|c| c.name == n))
        };
        let mut name = slug(base);
        let mut k = 2;
        while taken(&name) {
            name = format!("{}-{k}", slug(base));
            k += 1;
        }
        self.names.insert(name.clone());
        self.found.drafts.push(Draft {
            name,
            runbook,
            params,
            found,
            targets: Vec::new(),
            todos: Vec::new(),
        });
        Some(self.found.drafts.len() - 1)
    }

    fn note(&mut self, what: String, e: impl std::fmt::Display) {
        self.found
            .notes
            .push(format!("{what} could not be listed: {e}"));
    }

    async fn personal(&mut self, gitlab: &GitLab) {
        match gitlab.own_personal_tokens(Some("active")).await {
            Ok(list) => {
                for t in list {
                    let found = format!(
                        "GitLab lists it: your personal access token \"{}\" (id {})",
                        t.name, t.id
                    );
                    self.add_named(
                        &t.name,
                        Some(&t.name),
                        source::GITLAB_PAT.runbook,
                        vec![("token_id", t.id.to_string())],
                        found,
                    );
                }
            }
            Err(e) => self.note("your personal access tokens".into(), e),
        }
    }

    async fn resource(&mut self, gitlab: &GitLab, owner: Owner<'_>) {
        let (what, path, runbook) = match owner {
            Owner::Project(p) => ("project", p, source::GITLAB_PROJECT_TOKEN.runbook),
            Owner::Group(g) => ("group", g, source::GITLAB_GROUP_TOKEN.runbook),
        };
        match gitlab.resource_tokens(owner, None, Some("active")).await {
            Ok(list) => {
                for t in list {
                    let found = format!(
                        "GitLab lists it: {what} {path}'s access token \"{}\" (id {})",
                        t.name, t.id
                    );
                    let params = vec![(what, path.to_owned()), ("token_id", t.id.to_string())];
                    self.add_named(
                        &format!("{path}-{}", t.name),
                        Some(&t.name),
                        runbook,
                        params,
                        found,
                    );
                }
            }
            Err(e) => self.note(format!("{what} {path}'s access tokens"), e),
        }
    }

    /// A trigger's draft, its consumers by the naming rule and by value.
    async fn trigger(&mut self, gitlab: &GitLab, project: &str, t: &Trigger) {
        let found = format!(
            "GitLab lists it: project {project}'s pipeline trigger {} \"{}\"",
            t.id, t.description
        );
        let params = vec![
            ("project", project.to_owned()),
            ("trigger_id", t.id.to_string()),
        ];
        let Some(i) = self.add(
            &format!("{project}-trigger-{}", t.id),
            source::GITLAB_TRIGGER.runbook,
            params,
            found,
        ) else {
            return;
        };
        if let Some(named) = consumer_of(&t.description, self.config) {
            self.named(i, project, named).await;
        }
        if let Some(token) = t.full_token() {
            self.by_value(gitlab, i, token).await;
        }
    }

    async fn named(&mut self, i: usize, project: &str, named: NamedConsumer) {
        const RULE: &str = "by the naming rule: the trigger's description is";
        let draft = &mut self.found.drafts[i];
        match named {
            NamedConsumer::Webhook { instance, id } => {
                if let Some(spec) = webhook_target(&instance, &id) {
                    draft
                        .targets
                        .push((spec, format!("{RULE} the webhook's Admin Center link")));
                }
            }
            NamedConsumer::App { instance, name } => {
                let Some(z) = self.vendors.zendesk.get(&instance) else {
                    draft.todos.push(format!(
                        "zendesk-app:{instance}:INSTALLATION_ID:SETTING — {RULE} \"{name}\" on {instance} (no credential to list its installations); which installation and setting hold it?"
                    ));
                    return;
                };
                let found = match z.installations().await {
                    Ok(list) => Ok(list.into_iter().find(|inst| inst.name == name)),
                    Err(e) => Err(e.to_string()),
                };
                let inst = match found {
                    Ok(Some(inst)) => inst,
                    Ok(None) | Err(_) => {
                        let why = found.err().map_or_else(
                            || "no installation of that name".to_owned(),
                            |e| format!("its installations could not be listed: {e}"),
                        );
                        self.found.drafts[i].todos.push(format!(
                            "zendesk-app:{instance}:INSTALLATION_ID:SETTING — {RULE} \"{name}\" on {instance} ({why}); which installation and setting hold it?"
                        ));
                        return;
                    }
                };
                // The app's token lives in a secure setting: with exactly one, that is it.
                let secure: Vec<String> = match inst.app_id {
                    Some(app) => z.app(app).await.map_or_else(
                        |_| Vec::new(),
                        |a| a.parameters.into_iter().filter(|(_, s)| *s).map(|(n, _)| n).collect(),
                    ),
                    None => Vec::new(),
                };
                let draft = &mut self.found.drafts[i];
                // The app's one secure setting, when a spec can name it.
                let one = match secure.as_slice() {
                    [setting] => TargetSpec::from_pairs(
                        &target::ZENDESK_APP,
                        &[
                            ("instance", &instance),
                            ("installation_id", &inst.id.to_string()),
                            ("setting", setting),
                        ],
                    )
                    .map(|spec| (spec, setting)),
                    _ => None,
                };
                match one {
                    Some((spec, setting)) => draft.targets.push((
                        spec,
                        format!("{RULE} \"{name}\", installation {}; `{setting}` is the app's one secure setting", inst.id),
                    )),
                    None => draft.todos.push(format!(
                        "zendesk-app:{instance}:{}:SETTING — {RULE} \"{name}\" (installation {}; its settings: {}{}); which setting holds it?",
                        inst.id,
                        inst.id,
                        inst.settings.join(", "),
                        if secure.is_empty() { String::new() } else { format!("; secure: {}", secure.join(", ")) }
                    )),
                }
            }
            NamedConsumer::Project(p) => draft.todos.push(format!(
                "gitlab-ci-var:{p}:KEY — {RULE} project {p}'s link; which variable holds it?"
            )),
            NamedConsumer::Job(job) => draft.todos.push(format!(
                "gitlab-ci-var:{project}:KEY — {RULE} a job name (\"{job}\") of {project}; which variable holds it?"
            )),
        }
    }

    /// Where a trigger token the caller can read is held: the endpoints of the webhooks of the
    /// instances, and the readable variables of the projects and groups, in scope.
    async fn by_value(&mut self, gitlab: &GitLab, i: usize, token: &SecretString) {
        let mut unread: Vec<String> = Vec::new();
        let mut hits: Vec<(TargetSpec, String)> = Vec::new();
        for (instance, zendesk) in self.vendors.zendesk.iter() {
            let hooks = match zendesk.webhooks().await {
                Ok(hooks) => hooks,
                Err(e) => {
                    unread.push(format!("{instance}'s webhooks could not be listed ({e}): a consumer there may be missing"));
                    continue;
                }
            };
            for hook in hooks {
                let held = crate::clients::zendesk::endpoint_token(&hook.endpoint);
                if !held.is_some_and(|h| same(&h, token)) {
                    continue;
                }
                // A webhook that sends the token to another host than GitLab is no consumer to
                // keep feeding: it is said, for a person to judge, never drafted as a target.
                let host = crate::clients::zendesk::endpoint_host(&hook.endpoint);
                if host.is_none() || host != gitlab.host() {
                    unread.push(format!(
                        "webhook {} of {instance} holds this trigger's token but sends it to {}, not to GitLab: not drafted (a relay you trust takes allow_host)",
                        one_line(&hook.id),
                        one_line(host.as_deref().unwrap_or("no host"))
                    ));
                    continue;
                }
                if let Some(spec) = webhook_target(instance, &hook.id) {
                    hits.push((
                        spec,
                        "by value: the webhook's endpoint holds this trigger's token".into(),
                    ));
                }
            }
        }
        let holders = self.scope_owners.clone();
        for holder in holders {
            let vars = match gitlab.variables(holder.owner()).await {
                Ok(vars) => vars,
                Err(e) => {
                    let name = holder.name();
                    unread.push(format!("{name}'s variables could not be listed ({e}): a consumer there may be missing"));
                    continue;
                }
            };
            for v in vars {
                if v.value.as_ref().is_some_and(|held| same(held, token))
                    && let Some(spec) = holder.target(&v)
                {
                    hits.push((
                        spec,
                        "by value: the variable holds this trigger's token".into(),
                    ));
                }
            }
        }
        for note in unread {
            if !self.found.notes.contains(&note) {
                self.found.notes.push(note);
            }
        }
        let draft = &mut self.found.drafts[i];
        for hit in hits {
            if !draft.targets.iter().any(|(t, _)| *t == hit.0) {
                draft.targets.push(hit);
            }
        }
    }
}

impl<'a> Drafting<'a> {
    #[allow(clippy::new_ret_no_self)]
    fn start(
        config: &'a Config,
        vendors: &'a Vendors<'a>,
        inventory: Option<&'a Inventory>,
    ) -> Self {
        Self {
            config,
            vendors,
            inventory,
            found: Found::default(),
            names: BTreeSet::new(),
            scope_owners: Vec::new(),
        }
    }
}

/// Drafts inventory entries for what the vendors list in `scope`.
pub async fn discover(
    scope: &Scope,
    config: &Config,
    vendors: &Vendors<'_>,
    inventory: Option<&Inventory>,
) -> Found {
    let mut d = Drafting::start(config, vendors, inventory);
    d.scope_owners = scope
        .projects
        .iter()
        .map(|p| Holder::Project(p.clone()))
        .chain(scope.groups.iter().map(|g| Holder::Group(g.clone())))
        .collect();
    // A self-managed GitLab has instance variables too (gitlab.com has none for its users).
    if vendors
        .gitlab
        .is_some_and(|g| g.host().as_deref() != Some("gitlab.com"))
    {
        d.scope_owners.push(Holder::Instance);
    }
    if let Some(gitlab) = vendors.gitlab {
        d.personal(gitlab).await;
        for p in &scope.projects {
            d.resource(gitlab, Owner::Project(p)).await;
            match gitlab.triggers(p).await {
                Ok(list) => {
                    for t in &list {
                        d.trigger(gitlab, p, t).await;
                    }
                }
                Err(e) => d.note(format!("project {p}'s pipeline triggers"), e),
            }
        }
        for g in &scope.groups {
            d.resource(gitlab, Owner::Group(g)).await;
        }
    } else if !scope.projects.is_empty() || !scope.groups.is_empty() {
        d.found
            .notes
            .push("no GitLab credential: GitLab was not read (tokrot auth status)".into());
    }
    for instance in &scope.instances {
        let Some(zendesk) = vendors.zendesk.get(instance) else {
            d.found.notes.push(format!(
                "no Zendesk credential for {instance}: it was not read"
            ));
            continue;
        };
        match zendesk.all_oauth_tokens().await {
            Ok(list) => {
                for t in list {
                    let Some(client) = t.client_id else { continue };
                    let found = format!(
                        "Zendesk lists it: {instance}'s OAuth token {} of client {client}",
                        t.id
                    );
                    let params = vec![
                        ("instance", instance.clone()),
                        ("client_id", client.to_string()),
                        ("old_token_id", t.id.to_string()),
                    ];
                    d.add(
                        &format!("{instance}-oauth-{}", t.id),
                        source::ZENDESK_OAUTH.runbook,
                        params,
                        found,
                    );
                }
            }
            Err(e) => d.note(format!("{instance}'s OAuth tokens"), e),
        }
    }
    one_writer_per_target(&mut d.found.drafts, inventory);
    d.found
}

/// A target that a credential of the inventory (or an earlier draft) already writes is not
/// drafted again: two credentials on one target are refused, since it can hold only one
/// token. It is left as a note for a person to sort out.
fn one_writer_per_target(drafts: &mut [Draft], inventory: Option<&Inventory>) {
    let mut writers: Vec<(String, String)> = inventory
        .map(|inv| {
            inv.credentials
                .iter()
                .flat_map(|c| c.targets.iter().map(|t| (t.to_string(), c.name.clone())))
                .collect()
        })
        .unwrap_or_default();
    for draft in drafts {
        let targets = std::mem::take(&mut draft.targets);
        for (spec, how) in targets {
            let key = spec.to_string();
            match writers.iter().find(|(t, _)| *t == key) {
                Some((_, by)) => draft.todos.push(format!(
                    "{key} — {how}; but credential `{by}` writes it already: one target holds one token, so decide which credential it is"
                )),
                None => {
                    writers.push((key, draft.name.clone()));
                    draft.targets.push((spec, how));
                }
            }
        }
    }
}

/// A TOML string, quoted and escaped.
fn quoted(s: &str) -> String {
    toml_edit::Value::from(s).to_string().trim().to_owned()
}

/// The drafts as TOML to add to an inventory, every finding in a comment.
pub fn render(drafts: &[Draft]) -> String {
    let mut out = String::new();
    for d in drafts {
        out.push_str(&format!("\n# {}\n[[credential]]\n", one_line(&d.found)));
        out.push_str(&format!(
            "name = {}\nrunbook = {}\n",
            quoted(&d.name),
            quoted(d.runbook)
        ));
        let params: Vec<String> = d
            .params
            .iter()
            .map(|(k, v)| format!("{k} = {}", quoted(v)))
            .collect();
        out.push_str(&format!("params = {{ {} }}\n", params.join(", ")));
        if d.targets.is_empty() {
            out.push_str("targets = []\n");
        } else {
            out.push_str("targets = [\n");
            for (t, how) in &d.targets {
                out.push_str(&format!(
                    "  {},  # {}\n",
                    quoted(&t.to_string()),
                    one_line(how)
                ));
            }
            out.push_str("]\n");
        }
        for todo in &d.todos {
            out.push_str(&format!("# TODO: {}\n", one_line(todo)));
        }
    }
    out
}

/// A Zendesk webhook as a target; `None` for an id `--apply-to` cannot name.
fn webhook_target(instance: &str, id: &str) -> Option<TargetSpec> {
    TargetSpec::from_pairs(
        &target::ZENDESK_WEBHOOK,
        &[("instance", instance), ("webhook_id", id)],
    )
}
