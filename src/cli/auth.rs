//! `tokrot auth login|logout|status`: the tool's own credentials in the OS keyring. A secret is
//! read hidden (or from `--token-stdin`), checked against the vendor before it is kept, and never
//! shown; `status` says where each credential comes from and whether it works.

use clap::{Subcommand, ValueEnum};
use secrecy::SecretString;
use serde_json::json;

use super::{CliError, Ctx, Outcome};
use crate::config::display_url;
use crate::engine::auth;
use crate::engine::credentials::{self, Reach, Source};
use crate::engine::prompt::{PromptError, Prompter, TerminalPrompter};
use crate::model::Vendor;

/// Arguments of `tokrot auth`.
#[derive(Debug, clap::Args)]
pub struct AuthArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: AuthCommand,
}

/// The vendors an `auth` command is for, as its argument reads them.
impl ValueEnum for Vendor {
    fn value_variants<'a>() -> &'a [Self] {
        &[Vendor::GitLab, Vendor::Zendesk]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        let help = match self {
            Vendor::GitLab => "GitLab (`--gitlab-url`)",
            Vendor::Zendesk => "A Zendesk instance (`--instance`)",
        };
        Some(clap::builder::PossibleValue::new(self.as_str()).help(help))
    }
}

/// What `auth login` needs, for its help page.
const LOGIN_HELP: &str = "GitLab: a personal access token with the scopes api (every GitLab step) and self_rotate (so that `tokrot rotate gitlab-pat --self` can rotate it), created at GITLAB_URL/-/user_settings/personal_access_tokens.

Zendesk: an OAuth access token of an admin with the scopes read and write (tokrot reads users, apps, webhooks and OAuth tokens, and writes app settings, webhooks and OAuth tokens), made for an OAuth client listed at Admin Center > Apps and integrations > APIs > OAuth Clients; or, until 2027-04-30, an API token with --email.";

/// What to create for tokrot's own GitLab credential, and where.
fn gitlab_needs(url: &url::Url) -> String {
    format!(
        "tokrot needs a personal access token with the scopes `api` (every GitLab step) and `self_rotate` \
         (for `rotate gitlab-pat --self`); create one at {}/-/user_settings/personal_access_tokens.",
        display_url(url).trim_end_matches('/')
    )
}

/// What to create for tokrot's own Zendesk credential on an instance, and where.
fn zendesk_needs(admin_url: &str, api_token: bool) -> String {
    match api_token {
        true => format!(
            "tokrot needs an API token (they stop working on 2027-04-30) and the email of an admin of the instance; \
             the tokens are at {admin_url}/apps-integrations/apis/zendesk-api/settings."
        ),
        false => format!(
            "tokrot needs an OAuth access token of an admin, with the scopes `read` and `write`, for an OAuth client \
             listed at {admin_url}/apps-integrations/apis/zendesk-api/oauth_clients."
        ),
    }
}

/// The `auth` commands.
#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Check a credential and keep it in the OS keyring (it says which token to create, where,
    /// and with which scopes).
    #[command(after_help = LOGIN_HELP)]
    Login {
        /// Which vendor.
        service: Vendor,
        /// The Zendesk instance.
        #[arg(long, value_name = "I")]
        instance: Option<String>,
        /// For a Zendesk API token: the email of a verified user of the instance, whom the token
        /// acts as (without it, the secret is an OAuth token; on a terminal, tokrot asks which).
        #[arg(long, value_name = "ADDR")]
        email: Option<String>,
        /// Read the secret from one line of stdin instead of a hidden prompt.
        #[arg(long)]
        token_stdin: bool,
    },
    /// Remove a credential from the OS keyring.
    Logout {
        /// Which vendor.
        service: Vendor,
        /// The Zendesk instance.
        #[arg(long, value_name = "I")]
        instance: Option<String>,
    },
    /// Where each credential comes from (environment or keyring) and whether it works.
    Status {
        /// Only this vendor.
        service: Option<Vendor>,
        /// Only this Zendesk instance.
        #[arg(long, value_name = "I")]
        instance: Option<String>,
    },
}

/// The instance a Zendesk credential belongs to: `--instance`, else picked on a terminal from
/// the instances `rotate` offers (`tokrot instances`).
fn instance_of(ctx: &Ctx, instance: &Option<String>) -> Result<String, CliError> {
    let id = match instance {
        Some(id) => id.clone(),
        None if !ctx.global.yes && ctx.interactive() => pick_instance(ctx)?,
        None => {
            return Err(CliError::usage(
                "a Zendesk credential belongs to one instance: give --instance",
            )
            .hint("`tokrot instances` lists them"));
        }
    };
    ctx.config.instance(&id)?;
    Ok(id)
}

/// Asks which instance, as `rotate` does.
fn pick_instance(ctx: &Ctx) -> Result<String, CliError> {
    ctx.pick_instance(
        &mut TerminalPrompter::new(ctx.ui.color()),
        "Zendesk instance",
    )
    .map_err(|e| CliError::usage(format!("no instance chosen: {e}")))
}

fn keyring_error(e: impl std::fmt::Display) -> CliError {
    CliError::usage(e.to_string()).hint(
        "on Linux the kernel keyring (keyutils) is used; elsewhere the system's keychain. The environment variables \
         (GITLAB_TOKEN, ZENDESK_OAUTH_TOKEN, ZENDESK_EMAIL + ZENDESK_API_TOKEN) work without it",
    )
}

fn read_secret(ctx: &Ctx, token_stdin: bool, prompt: &str) -> Result<SecretString, CliError> {
    if token_stdin {
        return super::execute::read_stdin_token();
    }
    if !ctx.interactive() {
        return Err(
            CliError::usage("there is no terminal to ask for the secret on")
                .hint("pass it on stdin with --token-stdin"),
        );
    }
    TerminalPrompter::new(ctx.ui.color())
        .secret(prompt)
        .map_err(|e| CliError::usage(format!("no secret read: {e}")))
}

/// Runs an `auth` command.
pub async fn run(ctx: &mut Ctx, args: &AuthArgs) -> Result<Outcome, CliError> {
    // A dry run changes nothing: login would read a secret and write the keyring, so it is
    // refused; logout says what it would remove; status only reads.
    if ctx.global.dry_run && matches!(args.command, AuthCommand::Login { .. }) {
        return Err(CliError::usage(
            "`tokrot auth login` reads a secret and writes the OS keyring: it has no dry run; nothing was changed",
        )
        .hint("leave out --dry-run; `tokrot auth status` shows what is there"));
    }
    match &args.command {
        AuthCommand::Login {
            service: Vendor::GitLab,
            token_stdin,
            ..
        } => login_gitlab(ctx, *token_stdin).await,
        AuthCommand::Login {
            service: Vendor::Zendesk,
            instance,
            email,
            token_stdin,
        } => login_zendesk(ctx, instance, email, *token_stdin).await,
        AuthCommand::Logout { service, instance } => logout(ctx, *service, instance),
        AuthCommand::Status { service, instance } => status(ctx, *service, instance).await,
    }
}

fn http(ctx: &Ctx) -> auth::Http<'_> {
    auth::Http {
        redactor: ctx.ui.redactor(),
        policy: ctx.policy(),
    }
}

fn login_error(e: auth::LoginError) -> CliError {
    match e {
        auth::LoginError::Keyring(k) => keyring_error(k),
        other => CliError::usage(other.to_string()),
    }
}

async fn login_gitlab(ctx: &mut Ctx, token_stdin: bool) -> Result<Outcome, CliError> {
    let needs = gitlab_needs(&ctx.config.gitlab_url);
    ctx.ui.status(&needs)?;
    let token = read_secret(ctx, token_stdin, "GitLab personal access token")?;
    ctx.ui.redactor().register(&token);
    let url = ctx.config.gitlab_url.clone();
    ctx.warn_repointed(true, []);
    let (user, account) =
        auth::login_gitlab(&url, token, http(ctx))
            .await
            .map_err(|e| match e {
                auth::LoginError::DoesNotWork(why) => CliError::usage(format!(
                    "the token does not work, so it was not kept: {why}"
                )),
                other => login_error(other),
            })?;
    ctx.ui.status(&format!(
        "Logged in to {} as {}; the token is in the OS keyring as tokrot/{account}.",
        display_url(&url),
        user.user,
    ))?;
    if ctx.json() {
        let doc = json!({"operation": "login", "service": "gitlab", "instance": null,
                         "url": display_url(&url), "account": account, "user": user.user});
        ctx.print_json(&doc)?;
    }
    Ok(Outcome::Done)
}

async fn login_zendesk(
    ctx: &mut Ctx,
    instance: &Option<String>,
    email: &Option<String>,
    token_stdin: bool,
) -> Result<Outcome, CliError> {
    let id = instance_of(ctx, instance)?;
    let email = match email {
        Some(e) => Some(e.clone()),
        None => api_token_email(ctx, token_stdin)?,
    };
    let what = if email.is_some() {
        "Zendesk API token"
    } else {
        "Zendesk OAuth access token"
    };
    let admin_url = ctx.config.instance(&id)?.admin_url();
    ctx.ui.status(&zendesk_needs(&admin_url, email.is_some()))?;
    let secret = read_secret(ctx, token_stdin, what)?;
    ctx.ui.redactor().register(&secret);
    let instance = ctx.config.instance(&id)?.clone();
    ctx.warn_repointed(false, [&instance]);
    let (user, account) = auth::login_zendesk(&instance.url, secret, email.clone(), http(ctx))
        .await
        .map_err(|e| match e {
            auth::LoginError::Unauthorized(why) => refused(&why, email.as_deref()),
            other => login_error(other),
        })?;
    ctx.ui.status(&format!(
        "Logged in to {id} ({}) as {}; the credential is in the OS keyring as tokrot/{account}.",
        display_url(&instance.url),
        user.user
    ))?;
    if ctx.json() {
        let doc = json!({"operation": "login", "service": "zendesk", "instance": id,
                         "url": display_url(&instance.url), "account": account, "user": user.user});
        ctx.print_json(&doc)?;
    }
    Ok(Outcome::Done)
}

/// Without `--email`, on a terminal: which kind of Zendesk credential is about to be pasted,
/// asked before the secret is, and for an API token the email it authenticates with
/// (`ZENDESK_EMAIL`, else asked). `None`: an OAuth access token (also without a terminal, as
/// `--email`'s help says).
fn api_token_email(ctx: &mut Ctx, token_stdin: bool) -> Result<Option<String>, CliError> {
    if token_stdin || ctx.global.yes || !ctx.interactive() {
        return Ok(None);
    }
    let no_answer = |e: PromptError| CliError::usage(format!("no answer: {e}"));
    let mut prompter = TerminalPrompter::new(ctx.ui.color());
    let kinds = [
        "An OAuth access token (Bearer)".to_owned(),
        "An API token (Basic auth, with the email of a user of the instance)".to_owned(),
    ];
    if prompter
        .select("Which Zendesk credential?", &kinds)
        .map_err(no_answer)?
        == 0
    {
        return Ok(None);
    }
    if let Some(email) = std::env::var("ZENDESK_EMAIL")
        .ok()
        .filter(|e| !e.trim().is_empty())
    {
        ctx.ui.status(&format!(
            "Using ZENDESK_EMAIL ({email}) with the API token."
        ))?;
        return Ok(Some(email));
    }
    prompter
        .text(
            "Email of the Zendesk user the API token acts as (--email)",
            &|v| {
                if v.contains('@') && !v.contains(char::is_whitespace) {
                    Ok(())
                } else {
                    Err("an email address, such as agent@example.com".into())
                }
            },
        )
        .map(Some)
        .map_err(no_answer)
}

/// Zendesk answered 401: what the credential was sent as, and what to check.
fn refused(why: &str, email: Option<&str>) -> CliError {
    let err = CliError::usage(format!(
        "Zendesk refused the credential, so it was not kept: {why}"
    ));
    match email {
        Some(email) => err.hint(format!(
            "it was sent as the API token of {email} (Basic `{email}/token`): {email} must be a verified user of this \
             instance (the token then acts with that user's role), the token must be active (Zendesk deactivates one \
             unused for 30 days), and token access must be on in Admin Center (Apps and integrations > APIs > Zendesk API)"
        )),
        None => err.hint(
            "it was sent as an OAuth access token (Bearer), since no --email was given: for a Zendesk API token, \
             give --email ADDR, the email of a verified user of the instance",
        ),
    }
}

fn logout(ctx: &mut Ctx, service: Vendor, instance: &Option<String>) -> Result<Outcome, CliError> {
    let (account, name, id, url) = match service {
        Vendor::GitLab => (
            credentials::gitlab_account(&ctx.config.gitlab_url),
            "gitlab",
            None,
            display_url(&ctx.config.gitlab_url),
        ),
        Vendor::Zendesk => {
            let id = instance_of(ctx, instance)?;
            let url = ctx.config.instance(&id)?.url.clone();
            (
                credentials::zendesk_account(&url),
                "zendesk",
                Some(id),
                display_url(&url),
            )
        }
    };
    let dry_run = ctx.global.dry_run;
    let done = auth::logout(&account, dry_run).map_err(keyring_error)?;
    let found = matches!(done, auth::Logout::Removed);
    let text = match (dry_run, done) {
        (true, auth::Logout::Removed) => format!(
            "Dry run: would remove tokrot/{account} from the OS keyring; nothing was changed.\n"
        ),
        (true, auth::Logout::Absent) => {
            format!("Dry run: tokrot/{account} is not in the OS keyring; nothing to remove.\n")
        }
        (false, auth::Logout::Removed) => {
            format!("Removed tokrot/{account} from the OS keyring.")
        }
        (false, auth::Logout::Absent) => {
            format!("Nothing to remove: tokrot/{account} is not in the OS keyring.")
        }
    };
    if ctx.json() {
        let doc = json!({"operation": "logout", "service": name, "instance": id, "url": url, "account": account,
                         "dry_run": dry_run, "found": found, "removed": found && !dry_run});
        ctx.print_json(&doc)?;
    } else if dry_run {
        ctx.ui.page(&text)?;
    } else {
        ctx.ui.status(&text)?;
    }
    Ok(Outcome::Done)
}

/// `auth status`: each credential tried only where it belongs (a Zendesk credential from the
/// environment on the instance `ZENDESK_INSTANCE` or `--instance` names); exit 1 when one that was
/// tried does not work.
async fn status(
    ctx: &mut Ctx,
    service: Option<Vendor>,
    instance: &Option<String>,
) -> Result<Outcome, CliError> {
    // Asked about everything (no --instance, not `gitlab` alone): only what has a credential is
    // shown, as gh shows the hosts you are logged in to.
    let listing = instance.is_none() && service != Some(Vendor::GitLab);
    let mut rows = status_rows(ctx, service, instance).await?;
    // Those without a credential, when everything was asked about: one line naming them.
    let without: Vec<String> = match listing {
        true => rows
            .iter()
            .filter(|r| r.source.is_none())
            .map(|r| r.instance.clone().unwrap_or_else(|| r.service.to_owned()))
            .collect(),
        false => Vec::new(),
    };
    if listing {
        rows.retain(|r| r.source.is_some());
    }
    let failed = rows.iter().filter(|r| r.failed()).count();
    if ctx.json() {
        let items: Vec<_> = rows.iter().map(status_json).collect();
        ctx.print_json(&json!({"credentials": items}))?;
    } else {
        if !rows.is_empty() {
            let table = status_table(&rows).render(ctx.table_layout());
            ctx.ui.table(&table)?;
        }
        if !without.is_empty() && !rows.is_empty() {
            ctx.ui.status(&format!(
                "no credential for: {} (`tokrot auth login`)\n",
                without.join(", ")
            ))?;
        }
        if let Some(note) = unplaced_env_note(instance.is_some()) {
            ctx.ui.status(&note)?;
        }
    }
    if rows.iter().all(|r| r.source.is_none()) {
        let what = match (service, instance) {
            (_, Some(i)) => format!("the Zendesk instance {i}"),
            (Some(Vendor::GitLab), None) => "GitLab".to_owned(),
            (Some(Vendor::Zendesk), None) => "any Zendesk instance".to_owned(),
            (None, None) => "GitLab or any Zendesk instance".to_owned(),
        };
        let mut err = CliError::usage(format!("no credential for {what}"))
            .hint("log in with `tokrot auth login gitlab` or `tokrot auth login zendesk --instance ID`, or set GITLAB_TOKEN, ZENDESK_OAUTH_TOKEN (or ZENDESK_EMAIL and ZENDESK_API_TOKEN) and ZENDESK_INSTANCE");
        err.code = crate::exit::FAILED;
        err.reported = ctx.json();
        return Err(err);
    }
    if failed > 0 {
        let mut err = CliError::usage(format!(
            "{failed} credential(s) that were tried do not work"
        ))
        .hint("log in again with `tokrot auth login`, or fix the environment variable named above");
        err.code = crate::exit::FAILED;
        err.reported = ctx.json();
        return Err(err);
    }
    Ok(Outcome::Done)
}

/// Each credential asked about, tried where it belongs.
async fn status_rows(
    ctx: &mut Ctx,
    service: Option<Vendor>,
    instance: &Option<String>,
) -> Result<Vec<auth::Status>, CliError> {
    let mut rows = Vec::new();
    if service != Some(Vendor::Zendesk) {
        ctx.warn_repointed(true, []);
        rows.push(auth::gitlab_status(&ctx.config, http(ctx)).await);
    }
    if service != Some(Vendor::GitLab) {
        let (instances, reach) = match instance {
            Some(i) => (vec![ctx.config.instance(i)?.clone()], Reach::Named),
            None => (
                ctx.config
                    .ordered_instances()
                    .into_iter()
                    .cloned()
                    .collect(),
                Reach::Listed,
            ),
        };
        for instance in &instances {
            ctx.warn_repointed(false, [instance]);
            rows.push(auth::zendesk_status(instance, reach, http(ctx)).await);
        }
    }
    Ok(rows)
}

fn describe(source: &Option<Source>) -> String {
    source
        .as_ref()
        .map_or_else(|| "none".to_owned(), ToString::to_string)
}

fn status_json(r: &auth::Status) -> serde_json::Value {
    let ok = r.works.as_ref().ok();
    let (kind, name) = match &r.source {
        Some(Source::Env(var)) => (Some("env"), Some((*var).to_owned())),
        Some(Source::Keyring(account)) => (Some("keyring"), Some(account.clone())),
        None => (None, None),
    };
    json!({"service": r.service, "instance": r.instance, "url": r.url, "source": describe(&r.source),
           "source_kind": kind, "source_name": name,
           "works": r.works.is_ok(), "user": ok.map(|i| &i.user),
           "scopes": ok.and_then(|i| i.scopes.as_ref()), "expires": ok.and_then(|i| i.expires.as_ref()),
           "error": r.works.as_ref().err()})
}

/// One row a credential: what it is for, where it comes from, whether it works; the scopes
/// and expiry of one that works.
fn status_table(rows: &[auth::Status]) -> crate::table::Table {
    use crate::table::{Kind::Extra, Kind::Free, Kind::Key, Table};
    let mut table = Table::new(&[
        ("FOR", Key),
        ("URL", Key),
        ("FROM", Free),
        ("STATE", Free),
        ("EXPIRES", Extra),
        ("SCOPES", Free),
    ]);
    for r in rows {
        let (state, expires, scopes) = match &r.works {
            Ok(id) => (
                format!("works, as {}", id.user),
                id.expires.clone().unwrap_or_else(|| "-".to_owned()),
                id.scopes
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), |s| s.join(", ")),
            ),
            Err(e) => (
                format!("does not work: {e}"),
                "-".to_owned(),
                "-".to_owned(),
            ),
        };
        // The keyring account is the service and the URL's origin, so the row need not repeat
        // it (the JSON names it).
        let from = match &r.source {
            Some(Source::Env(var)) => format!("env {var}"),
            Some(Source::Keyring(_)) => "keyring".to_owned(),
            None => "none".to_owned(),
        };
        let what = match &r.instance {
            Some(i) => format!("{} {i}", r.service),
            None => r.service.to_owned(),
        };
        table.row(vec![what, r.url.clone(), from, state, expires, scopes]);
    }
    table
}

/// A note when Zendesk credentials are in the environment but belong to no instance: they are
/// used for a command's explicit `--instance` only, never tried on every instance.
fn unplaced_env_note(named: bool) -> Option<String> {
    let set = |v: &str| std::env::var_os(v).is_some_and(|v| !v.is_empty());
    let in_env = set("ZENDESK_OAUTH_TOKEN") || (set("ZENDESK_EMAIL") && set("ZENDESK_API_TOKEN"));
    (in_env && !named && !set("ZENDESK_INSTANCE")).then(|| {
        "note: Zendesk credentials are set in the environment but ZENDESK_INSTANCE is not, so they belong to no instance and were not tried; pass --instance ID (or set ZENDESK_INSTANCE) to check them\n".to_owned()
    })
}
