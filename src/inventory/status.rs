//! What needs rotating: one row per token — every credential of the inventory, read from its
//! vendor (expiry, last use), and every token the vendors list that the inventory does not name
//! ("unlisted"): the caller's GitLab personal access tokens, the access tokens and pipeline
//! triggers of the projects and groups the inventory mentions, and the OAuth tokens of the
//! Zendesk instances it mentions. Reads only; calls go out side by side, `concurrency` at a time.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;

use futures_util::StreamExt;
use jiff::civil::Date;

use super::source::{self, Home, Reader};
use super::{Credential, Inventory};
use crate::clients::gitlab::{AccessToken, GitLab, Owner};
use crate::clients::zendesk::{OAuthToken, Zendesk};

/// The day Zendesk turns every API token off.
pub const ZENDESK_API_TOKENS_END: Date = jiff::civil::date(2027, 4, 30);

/// Where a token stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Past its expiry.
    Expired,
    /// Expires within the window: rotate it.
    Due,
    /// Expires later.
    Ok,
    /// Never expires.
    NoExpiry,
    /// The vendors list it, the inventory does not.
    Unlisted,
    /// Revoked or inactive at the vendor before its expiry: its consumers hold a dead token.
    Revoked,
    /// Could not be read.
    Unknown,
}

impl State {
    /// The word in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Expired => "expired",
            State::Due => "due",
            State::Ok => "ok",
            State::NoExpiry => "no-expiry",
            State::Unlisted => "unlisted",
            State::Revoked => "revoked",
            State::Unknown => "unknown",
        }
    }
}

/// One token.
#[derive(Debug, Clone)]
pub struct Row {
    /// The inventory's name, or the vendor's name of an unlisted token.
    pub name: String,
    /// `gitlab-pat`, `gitlab-project-token`, `gitlab-group-token`, `gitlab-trigger`,
    /// `zendesk-oauth`, `zendesk-api`.
    pub kind: String,
    /// Where it lives.
    pub place: Place,
    /// Its id on the vendor, where known.
    pub id: Option<u64>,
    /// When it stops working.
    pub expires: Option<Date>,
    /// Days from today to `expires`.
    pub days_left: Option<i64>,
    /// Last use, as the vendor writes it.
    pub last_used: Option<String>,
    /// Where it is used (the inventory's targets).
    pub consumers: Vec<String>,
    /// Consumers the inventory allows to send the token to another host (a relay): the
    /// target and that host.
    pub relays: Vec<(String, String)>,
    /// Where it stands.
    pub state: State,
    /// Whether `rotate --due --yes` can rotate it (no manual step, gate or paste); `None` for
    /// an unlisted token.
    pub unattended: Option<bool>,
    /// Why it could not be read.
    pub note: Option<String>,
    /// Why its inventory entry cannot be run (an unknown runbook, a parameter it lacks or does
    /// not take): a fix the entry needs, whatever its token's state.
    pub plan_error: Option<String>,
}

/// The vendors' clients a status reads through.
pub struct Vendors<'a> {
    /// GitLab, when a credential is there.
    pub gitlab: Option<&'a GitLab>,
    /// Zendesk, by instance id, where a credential is there.
    pub zendesk: &'a HashMap<String, Zendesk>,
}

/// The report: rows soonest expiry first, and the lists that could not be read.
#[derive(Debug, Default)]
pub struct Report {
    /// The tokens.
    pub rows: Vec<Row>,
    /// Lists that could not be read (so an unlisted token may be missing).
    pub notes: Vec<String>,
}

impl Report {
    /// Whether anything is expired or due.
    pub fn needs_rotation(&self) -> bool {
        self.rows
            .iter()
            .any(|r| matches!(r.state, State::Expired | State::Due))
    }

    /// The inventory's tokens that need a person: expired, due, revoked at the vendor, not
    /// read, or whose entry cannot be run.
    pub fn needing_a_person(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| {
            r.unattended.is_some()
                && (r.plan_error.is_some()
                    || matches!(
                        r.state,
                        State::Expired | State::Due | State::Revoked | State::Unknown
                    ))
        })
    }
}

/// A token's identity on its vendor, to tell listed from unlisted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Pat(u64),
    Resource(&'static str, String, u64),
    Trigger(String, u64),
    OAuth(String, u64),
}

/// What one read found: rows, the keys of listed tokens, a note.
type Found = (Vec<Row>, Vec<Key>, Option<String>);
type Read<'a> = Pin<Box<dyn Future<Output = Found> + Send + 'a>>;

/// The state of a token expiring on `expires`, today, with a window of `due_days`. A GitLab
/// token stops at 00:00 UTC of its expiry date: on that day it is expired.
pub fn state_of(expires: Option<Date>, today: Date, due_days: u32) -> (State, Option<i64>) {
    let Some(e) = expires else {
        return (State::NoExpiry, None);
    };
    let days = i64::from((e - today).get_days());
    let state = if days <= 0 {
        State::Expired
    } else if days <= i64::from(due_days) {
        State::Due
    } else {
        State::Ok
    };
    (state, Some(days))
}

/// Where a token lives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Place {
    /// Not known (the token could not be read).
    #[default]
    Unknown,
    /// A GitLab user's own token.
    GitLab,
    /// A GitLab project, by path or id.
    Project(String),
    /// A GitLab group, by path or id.
    Group(String),
    /// A Zendesk instance, by id.
    Zendesk(String),
}

impl Place {
    /// `gitlab` or `zendesk` (`None` when not known).
    pub fn service(&self) -> Option<&'static str> {
        match self {
            Place::Unknown => None,
            Place::GitLab | Place::Project(_) | Place::Group(_) => Some("gitlab"),
            Place::Zendesk(_) => Some("zendesk"),
        }
    }
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Unknown => Ok(()),
            Place::GitLab => f.write_str("gitlab"),
            Place::Project(p) => write!(f, "project {p}"),
            Place::Group(g) => write!(f, "group {g}"),
            Place::Zendesk(i) => write!(f, "zendesk {i}"),
        }
    }
}

/// How a credential's token was read.
struct Seen {
    id: Option<u64>,
    /// False when the vendor says it was revoked or is otherwise unusable.
    active: bool,
    place: Place,
    expires: Option<Date>,
    last_used: Option<String>,
    key: Option<Key>,
}

fn from_access(t: &AccessToken, place: Place, key: Key) -> Seen {
    Seen {
        id: Some(t.id),
        active: t.active,
        place,
        expires: t.expires_on,
        last_used: t.last_used_at.clone(),
        key: Some(key),
    }
}

fn date_of(timestamp: &str) -> Option<Date> {
    timestamp.get(..10).and_then(|d| d.parse().ok())
}

/// Finds a GitLab token by the credential's `token_id` (or `self`) or `token_name`.
async fn access_token(
    gitlab: &GitLab,
    owner: Option<Owner<'_>>,
    c: &Credential,
) -> Result<AccessToken, String> {
    let err = |e: crate::clients::http::ApiError| e.to_string();
    if let Some(id) = c.param("token_id") {
        return match owner {
            None => gitlab.personal_token(id).await.map_err(err),
            Some(o) => gitlab.resource_token(o, id).await.map_err(err),
        };
    }
    let name = c
        .param("token_name")
        .ok_or("its params name no token_id or token_name")?;
    let list = match owner {
        None => gitlab.personal_tokens(Some(name), Some("active")).await,
        Some(o) => gitlab.resource_tokens(o, Some(name), Some("active")).await,
    }
    .map_err(err)?;
    let mut named = list.into_iter().filter(|t| t.name == name);
    match (named.next(), named.next()) {
        (Some(t), None) => Ok(t),
        (None, _) => Err(format!("no active token is named {name}")),
        (Some(_), Some(_)) => Err(format!("more than one active token is named {name}")),
    }
}

/// Reads a credential's token from its vendor.
async fn seen(c: &Credential, vendors: &Vendors<'_>) -> Result<Seen, String> {
    let gitlab = || {
        vendors
            .gitlab
            .ok_or("no GitLab credential (tokrot auth status)")
    };
    let param = |name: &str| {
        c.param(name)
            .map(str::to_owned)
            .ok_or_else(|| format!("its params have no {name}"))
    };
    let Some(kind) = source::of(&c.runbook) else {
        return Err(format!(
            "tokrot cannot read the expiry of a `{}` token; it is found at rotation",
            c.runbook
        ));
    };
    match kind.reader {
        Reader::PersonalToken => {
            let t = access_token(gitlab()?, None, c).await?;
            Ok(from_access(&t, Place::GitLab, Key::Pat(t.id)))
        }
        Reader::ResourceToken => {
            let home = kind
                .home_param()
                .ok_or("its kind has no project or group")?;
            resource_seen(gitlab()?, c, kind.home == Home::Group, param(home)?).await
        }
        Reader::Trigger => {
            let id_param = kind.id_param.ok_or("its kind names no trigger parameter")?;
            let id: u64 = param(id_param)?
                .parse()
                .map_err(|_| format!("{id_param} is not a number"))?;
            trigger_seen(gitlab()?, param("project")?, id).await
        }
        Reader::OAuth => oauth_seen(c, vendors).await,
        Reader::WebhookSecret => {
            secret_seen(vendors, param("instance")?, &param("webhook_id")?).await
        }
        Reader::ApiToken => Ok(Seen {
            id: None,
            active: true,
            place: Place::Zendesk(param("instance")?),
            expires: Some(ZENDESK_API_TOKENS_END),
            last_used: None,
            key: None,
        }),
    }
}

/// Reads a project or group access token.
async fn resource_seen(
    gitlab: &GitLab,
    c: &Credential,
    group: bool,
    owner: String,
) -> Result<Seen, String> {
    let o = match group {
        true => Owner::Group(&owner),
        false => Owner::Project(&owner),
    };
    let t = access_token(gitlab, Some(o), c).await?;
    let what = if group { "group" } else { "project" };
    let key = Key::Resource(what, owner.clone(), t.id);
    let place = match group {
        true => Place::Group(owner),
        false => Place::Project(owner),
    };
    Ok(from_access(&t, place, key))
}

/// Reads a pipeline trigger.
async fn trigger_seen(gitlab: &GitLab, project: String, id: u64) -> Result<Seen, String> {
    let t = gitlab
        .trigger(&project, id)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Seen {
        id: Some(t.id),
        active: true,
        place: Place::Project(project.clone()),
        expires: t.expires_at.as_deref().and_then(date_of),
        last_used: t.last_used,
        key: Some(Key::Trigger(project, t.id)),
    })
}

/// A signing secret does not expire: its row says whether its webhook is still there.
async fn secret_seen(vendors: &Vendors<'_>, instance: String, id: &str) -> Result<Seen, String> {
    let zendesk = vendors
        .zendesk
        .get(&instance)
        .ok_or_else(|| format!("no Zendesk credential for {instance}"))?;
    zendesk.webhook(id).await.map_err(|e| e.to_string())?;
    Ok(Seen {
        id: None,
        active: true,
        place: Place::Zendesk(instance),
        expires: None,
        last_used: None,
        key: None,
    })
}

/// Reads a `zendesk-oauth` credential's token: the one `old_token_id` names among its client's
/// tokens, or the client's only one.
async fn oauth_seen(c: &Credential, vendors: &Vendors<'_>) -> Result<Seen, String> {
    let param = |name: &str| {
        c.param(name)
            .map(str::to_owned)
            .ok_or_else(|| format!("its params have no {name}"))
    };
    let instance = param("instance")?;
    let zendesk = vendors
        .zendesk
        .get(&instance)
        .ok_or_else(|| format!("no Zendesk credential for {instance}"))?;
    let client: u64 = param("client_id")?
        .parse()
        .map_err(|_| "client_id is not a number")?;
    let tokens = zendesk
        .oauth_tokens(client)
        .await
        .map_err(|e| e.to_string())?;
    let token: &OAuthToken = match c.param("old_token_id") {
        Some(id) => tokens
            .iter()
            .find(|t| t.id.to_string() == id)
            .ok_or_else(|| format!("client {client} has no token {id}"))?,
        None if tokens.len() == 1 => &tokens[0],
        None => {
            return Err(format!(
                "client {client} has {} tokens: name one with old_token_id",
                tokens.len()
            ));
        }
    };
    Ok(Seen {
        id: Some(token.id),
        active: true,
        place: Place::Zendesk(instance.clone()),
        expires: token.expires_at.as_deref().and_then(date_of),
        last_used: token.used_at.clone(),
        key: Some(Key::OAuth(instance, token.id)),
    })
}

/// A credential's row.
async fn listed(
    c: &Credential,
    unattended: Result<bool, String>,
    vendors: &Vendors<'_>,
    today: Date,
    due_days: u32,
) -> Found {
    let consumers = c.targets.iter().map(ToString::to_string).collect();
    let mut relays: Vec<(String, String)> = c
        .allow_hosts
        .iter()
        .filter_map(|(i, h)| c.targets.get(*i).map(|t| (t.to_string(), h.clone())))
        .collect();
    relays.sort();
    let mut row = Row {
        name: c.name.clone(),
        kind: c.runbook.clone(),
        place: place_of(c),
        id: None,
        expires: None,
        days_left: None,
        last_used: None,
        consumers,
        relays,
        state: State::Unknown,
        unattended: Some(*unattended.as_ref().unwrap_or(&false)),
        note: None,
        plan_error: unattended.err(),
    };
    match seen(c, vendors).await {
        Ok(s) => {
            let (mut state, days) = state_of(s.expires, today, due_days);
            // GitLab calls an expired token inactive too: only one that should still work and
            // does not is revoked.
            if !s.active && state != State::Expired {
                state = State::Revoked;
            }
            row.place = s.place;
            row.id = s.id;
            row.expires = s.expires;
            row.days_left = days;
            row.last_used = s.last_used;
            row.state = state;
            (vec![row], s.key.into_iter().collect(), None)
        }
        Err(e) => {
            row.note = Some(e);
            (vec![row], Vec::new(), None)
        }
    }
}

/// Where a credential's token lives, as its parameters say (before it is read).
fn place_of(c: &Credential) -> Place {
    let Some(kind) = source::of(&c.runbook) else {
        return Place::Unknown;
    };
    let param = |name| c.param(name).map(str::to_owned);
    match kind.home {
        Home::User => Place::GitLab,
        Home::Project => param("project").map_or(Place::Unknown, Place::Project),
        Home::Group => param("group").map_or(Place::Unknown, Place::Group),
        Home::Instance => param("instance").map_or(Place::Unknown, Place::Zendesk),
    }
}

/// A row for a token the vendors list and the inventory does not name.
fn unlisted(
    name: String,
    kind: &str,
    place: Place,
    id: u64,
    expires: Option<Date>,
    last_used: Option<String>,
    today: Date,
) -> (Row, Key) {
    let (_, days) = state_of(expires, today, 0);
    let key = match &place {
        Place::Project(p) if kind == source::GITLAB_TRIGGER.runbook => Key::Trigger(p.clone(), id),
        Place::Project(p) => Key::Resource("project", p.clone(), id),
        Place::Group(g) => Key::Resource("group", g.clone(), id),
        Place::Zendesk(i) => Key::OAuth(i.clone(), id),
        Place::GitLab | Place::Unknown => Key::Pat(id),
    };
    let row = Row {
        name,
        kind: kind.to_owned(),
        place,
        id: Some(id),
        expires,
        days_left: days,
        last_used,
        consumers: Vec::new(),
        relays: Vec::new(),
        state: State::Unlisted,
        unattended: None,
        note: None,
        plan_error: None,
    };
    (row, key)
}

/// The projects, groups and instances the inventory mentions (parameters and targets).
fn mentioned(inv: &Inventory) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    let (mut projects, mut groups, mut instances) = Default::default();
    let (p, g, i): (
        &mut BTreeSet<String>,
        &mut BTreeSet<String>,
        &mut BTreeSet<String>,
    ) = (&mut projects, &mut groups, &mut instances);
    for c in &inv.credentials {
        for (k, v) in &c.params {
            match k.as_str() {
                "project" => p.insert(v.clone()),
                "group" => g.insert(v.clone()),
                "instance" => i.insert(v.clone()),
                _ => false,
            };
        }
        for t in &c.targets {
            if let Some(project) = t.project() {
                p.insert(project.to_owned());
            }
            if let Some(group) = t.group() {
                g.insert(group.to_owned());
            }
            if let Some(instance) = t.instance() {
                i.insert(instance.to_owned());
            }
        }
    }
    (projects, groups, instances)
}

/// Rows for a list of access tokens, or the note that it could not be read.
fn access_rows(
    list: Result<Vec<AccessToken>, crate::clients::http::ApiError>,
    (kind, place, what): (&'static str, Place, String),
    today: Date,
) -> Found {
    match list {
        Ok(tokens) => {
            // Asked for active tokens only; a vendor that ignores the filter still says which
            // are revoked: a revoked token (each rotation leaves one) is nobody's to rotate.
            let rows = tokens
                .into_iter()
                .filter(|t| t.active)
                .map(|t| {
                    unlisted(
                        t.name,
                        kind,
                        place.clone(),
                        t.id,
                        t.expires_on,
                        t.last_used_at,
                        today,
                    )
                    .0
                })
                .collect();
            (rows, Vec::new(), None)
        }
        Err(e) => (
            Vec::new(),
            Vec::new(),
            Some(format!("{what} could not be listed: {e}")),
        ),
    }
}

/// The lists of tokens the vendors keep where the inventory points: every one of them, as rows
/// marked unlisted (the listed ones are dropped later).
fn vendor_lists<'a>(inv: &'a Inventory, vendors: &'a Vendors<'a>, today: Date) -> Vec<Read<'a>> {
    let (projects, groups, instances) = mentioned(inv);
    let mut reads: Vec<Read<'a>> = Vec::new();
    if let Some(gitlab) = vendors.gitlab {
        reads.push(Box::pin(async move {
            let list = gitlab.own_personal_tokens(Some("active")).await;
            let what = (
                source::GITLAB_PAT.runbook,
                Place::GitLab,
                "your personal access tokens".into(),
            );
            access_rows(list, what, today)
        }));
        for p in projects {
            let p2 = p.clone();
            reads.push(Box::pin(async move {
                let list = gitlab
                    .resource_tokens(Owner::Project(&p), None, Some("active"))
                    .await;
                let what = (
                    source::GITLAB_PROJECT_TOKEN.runbook,
                    Place::Project(p.clone()),
                    format!("project {p}'s access tokens"),
                );
                access_rows(list, what, today)
            }));
            reads.push(Box::pin(trigger_rows(gitlab, p2, today)));
        }
        for g in groups {
            reads.push(Box::pin(async move {
                let list = gitlab
                    .resource_tokens(Owner::Group(&g), None, Some("active"))
                    .await;
                let what = (
                    source::GITLAB_GROUP_TOKEN.runbook,
                    Place::Group(g.clone()),
                    format!("group {g}'s access tokens"),
                );
                access_rows(list, what, today)
            }));
        }
    }
    for i in instances {
        if let Some(zendesk) = vendors.zendesk.get(&i) {
            reads.push(Box::pin(oauth_rows(zendesk, i, today)));
        }
    }
    reads
}

/// A project's pipeline triggers, as unlisted rows.
async fn trigger_rows(gitlab: &GitLab, project: String, today: Date) -> Found {
    match gitlab.triggers(&project).await {
        Ok(list) => {
            let rows = list
                .into_iter()
                .map(|t| {
                    let name = if t.description.is_empty() {
                        format!("trigger {}", t.id)
                    } else {
                        t.description.clone()
                    };
                    let expires = t.expires_at.as_deref().and_then(date_of);
                    let place = Place::Project(project.clone());
                    unlisted(
                        name,
                        source::GITLAB_TRIGGER.runbook,
                        place,
                        t.id,
                        expires,
                        t.last_used,
                        today,
                    )
                    .0
                })
                .collect();
            (rows, Vec::new(), None)
        }
        Err(e) => (
            Vec::new(),
            Vec::new(),
            Some(format!(
                "project {project}'s pipeline triggers could not be listed: {e}"
            )),
        ),
    }
}

/// An instance's OAuth tokens, as unlisted rows.
async fn oauth_rows(zendesk: &Zendesk, instance: String, today: Date) -> Found {
    match zendesk.all_oauth_tokens().await {
        Ok(list) => {
            let rows = list
                .into_iter()
                .map(|t| {
                    let name = format!("OAuth token {}", t.id);
                    let expires = t.expires_at.as_deref().and_then(date_of);
                    let place = Place::Zendesk(instance.clone());
                    unlisted(
                        name,
                        source::ZENDESK_OAUTH.runbook,
                        place,
                        t.id,
                        expires,
                        t.used_at,
                        today,
                    )
                    .0
                })
                .collect();
            (rows, Vec::new(), None)
        }
        Err(e) => (
            Vec::new(),
            Vec::new(),
            Some(format!(
                "the OAuth tokens of {instance} could not be listed: {e}"
            )),
        ),
    }
}

/// Every token: the inventory's, read from the vendors, and the unlisted ones; soonest expiry
/// first. `unattended` says, by credential name, whether its rotation needs no human;
/// `progress` counts the reads.
pub async fn status(
    inv: &Inventory,
    unattended: &HashMap<String, Result<bool, String>>,
    vendors: &Vendors<'_>,
    (today, due_days): (Date, u32),
    concurrency: usize,
    progress: &dyn crate::tally::Tally,
) -> Report {
    let mut reads: Vec<Read<'_>> = inv
        .credentials
        .iter()
        .map(|c| {
            let quiet = unattended
                .get(&c.name)
                .cloned()
                .unwrap_or_else(|| Err("not planned".into()));
            Box::pin(listed(c, quiet, vendors, today, due_days)) as Read<'_>
        })
        .collect();
    let listed_count = reads.len();
    reads.extend(vendor_lists(inv, vendors, today));
    progress.set_total(reads.len());
    let found: Vec<(usize, Found)> = futures_util::stream::iter(reads.into_iter().enumerate())
        .map(|(i, read)| async move { (i, read.await) })
        .buffer_unordered(concurrency.max(1))
        .inspect(|_| progress.inc())
        .collect()
        .await;
    let mut found = found;
    found.sort_by_key(|(i, _)| *i);
    let mut report = Report::default();
    let mut keys: BTreeSet<Key> = BTreeSet::new();
    let mut vendor_rows = Vec::new();
    for (i, (rows, k, note)) in found {
        keys.extend(k);
        report.notes.extend(note);
        if i < listed_count {
            report.rows.extend(rows);
        } else {
            vendor_rows.extend(rows);
        }
    }
    for row in vendor_rows {
        let key = unlisted(
            String::new(),
            &row.kind,
            row.place.clone(),
            row.id.unwrap_or(0),
            None,
            None,
            today,
        )
        .1;
        if !keys.contains(&key) {
            keys.insert(key);
            report.rows.push(row);
        }
    }
    report.rows.sort_by(|a, b| {
        let at = |r: &Row| {
            r.expires
                .map_or(i64::MAX, |e| i64::from((e - today).get_days()))
        };
        at(a).cmp(&at(b)).then_with(|| a.name.cmp(&b.name))
    });
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_expired_on_its_expiry_date_and_due_within_the_window() {
        let today = jiff::civil::date(2026, 11, 28);
        let on = |y, m, d| Some(jiff::civil::date(y, m, d));
        assert_eq!(state_of(on(2026, 11, 28), today, 14).0, State::Expired);
        assert_eq!(
            state_of(on(2026, 11, 20), today, 14),
            (State::Expired, Some(-8))
        );
        assert_eq!(
            state_of(on(2026, 12, 12), today, 14),
            (State::Due, Some(14))
        );
        assert_eq!(state_of(on(2026, 12, 13), today, 14), (State::Ok, Some(15)));
        assert_eq!(state_of(None, today, 14), (State::NoExpiry, None));
    }
}
