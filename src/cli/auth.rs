//! `tokrot auth login|logout|status`: the tool's own credentials in the OS keyring. A secret is
//! read hidden (or from `--token-stdin`), checked against the vendor before it is kept, and never
//! shown; `status` says where each credential comes from and whether it works.

use clap::{Subcommand, ValueEnum};
use secrecy::SecretString;
use serde_json::json;

use super::{CliError, Ctx, Outcome};
use crate::clients::gitlab::GitLab;
use crate::clients::zendesk::{Auth, Zendesk};
use crate::config::display_url;
use crate::engine::credentials::{self, Source};
use crate::engine::prompt::{Prompter, TerminalPrompter};
use crate::secret::stash;

/// Arguments of `tokrot auth`.
#[derive(Debug, clap::Args)]
pub struct AuthArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: AuthCommand,
}

/// A vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Service {
    /// GitLab (`--gitlab-url`).
    Gitlab,
    /// A Zendesk instance (`--instance`).
    Zendesk,
}

/// The `auth` commands.
#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Check a credential and keep it in the OS keyring.
    Login {
        /// Which vendor.
        service: Service,
        /// The Zendesk instance.
        #[arg(long, value_name = "I")]
        instance: Option<String>,
        /// For a Zendesk API token: the user's email (without it, the secret is an OAuth token).
        #[arg(long, value_name = "ADDR")]
        email: Option<String>,
        /// Read the secret from one line of stdin instead of a hidden prompt.
        #[arg(long)]
        token_stdin: bool,
    },
    /// Remove a credential from the OS keyring.
    Logout {
        /// Which vendor.
        service: Service,
        /// The Zendesk instance.
        #[arg(long, value_name = "I")]
        instance: Option<String>,
    },
    /// Where each credential comes from (environment or keyring) and whether it works.
    Status {
        /// Only this vendor.
        service: Option<Service>,
        /// Only this Zendesk instance.
        #[arg(long, value_name = "I")]
        instance: Option<String>,
    },
}

fn instance_of(ctx: &Ctx, instance: &Option<String>) -> Result<String, CliError> {
    let id = instance.clone().ok_or_else(|| {
        CliError::usage("a Zendesk credential belongs to one instance: give --instance")
    })?;
    ctx.config.instance(&id)?;
    Ok(id)
}

fn keyring_error(e: stash::StashError) -> CliError {
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
            service: Service::Gitlab,
            token_stdin,
            ..
        } => {
            let token = read_secret(ctx, *token_stdin, "GitLab personal access token")?;
            ctx.ui.redactor().register(&token);
            let client = GitLab::new(
                &ctx.config.gitlab_url,
                token.clone(),
                ctx.ui.redactor().clone(),
                ctx.policy(),
            )
            .map_err(|e| CliError::usage(e.to_string()))?;
            let user = client.current_user().await.map_err(|e| {
                CliError::usage(format!("the token does not work, so it was not kept: {e}"))
            })?;
            let account = credentials::gitlab_account(&ctx.config.gitlab_url);
            stash::set(&account, &token).map_err(keyring_error)?;
            ctx.ui.status(&format!(
                "Logged in to {} as {}; the token is in the OS keyring as tokrot/{account}.",
                display_url(&ctx.config.gitlab_url),
                user.username
            ))?;
            Ok(Outcome::Done)
        }
        AuthCommand::Login {
            service: Service::Zendesk,
            instance,
            email,
            token_stdin,
        } => {
            let id = instance_of(ctx, instance)?;
            let what = if email.is_some() {
                "Zendesk API token"
            } else {
                "Zendesk OAuth access token"
            };
            let secret = read_secret(ctx, *token_stdin, what)?;
            ctx.ui.redactor().register(&secret);
            let auth = match email {
                Some(e) => Auth::ApiToken {
                    email: e.clone(),
                    token: secret,
                },
                None => Auth::OAuth(secret),
            };
            let url = ctx.config.instance(&id)?.url.clone();
            let me = Zendesk::new(&url, auth.clone(), ctx.ui.redactor().clone(), ctx.policy())
                .map_err(|e| CliError::usage(e.to_string()))?
                .me()
                .await
                .map_err(|e| {
                    CliError::usage(format!(
                        "the credential does not work, so it was not kept: {e}"
                    ))
                })?;
            if !me.authenticated() {
                return Err(CliError::usage(
                    "the credential does not work, so it was not kept: Zendesk answered as an anonymous user",
                ));
            }
            credentials::store_zendesk(&id, &auth).map_err(keyring_error)?;
            ctx.ui.status(&format!(
                "Logged in to {id} as {}; the credential is in the OS keyring as tokrot/{}.",
                me.email.unwrap_or_default(),
                credentials::zendesk_account(&id)
            ))?;
            Ok(Outcome::Done)
        }
        AuthCommand::Logout { service, instance } => {
            let account = match service {
                Service::Gitlab => credentials::gitlab_account(&ctx.config.gitlab_url),
                Service::Zendesk => credentials::zendesk_account(&instance_of(ctx, instance)?),
            };
            if ctx.global.dry_run {
                let there = stash::lookup(&account).map_err(keyring_error)?.is_some();
                ctx.ui.out(&if there {
                    format!("Dry run: would remove tokrot/{account} from the OS keyring; nothing was changed.\n")
                } else {
                    format!("Dry run: tokrot/{account} is not in the OS keyring; nothing to remove.\n")
                })?;
                return Ok(Outcome::Done);
            }
            let removed = stash::delete(&account).map_err(keyring_error)?;
            ctx.ui.status(&if removed {
                format!("Removed tokrot/{account} from the OS keyring.")
            } else {
                format!("Nothing to remove: tokrot/{account} is not in the OS keyring.")
            })?;
            Ok(Outcome::Done)
        }
        AuthCommand::Status { service, instance } => status(ctx, *service, instance).await,
    }
}

async fn status(
    ctx: &mut Ctx,
    service: Option<Service>,
    instance: &Option<String>,
) -> Result<Outcome, CliError> {
    let mut rows = Vec::new();
    if service != Some(Service::Zendesk) {
        let url = ctx.config.gitlab_url.clone();
        let (source, works) = match credentials::gitlab_token(&url) {
            Err(e) => (None, Err(e.to_string())),
            Ok(None) => (None, Err("no credential".into())),
            Ok(Some((token, source))) => {
                let checked =
                    match GitLab::new(&url, token, ctx.ui.redactor().clone(), ctx.policy()) {
                        Ok(c) => c
                            .current_user()
                            .await
                            .map(|u| u.username)
                            .map_err(|e| e.to_string()),
                        Err(e) => Err(e.to_string()),
                    };
                (Some(source), checked)
            }
        };
        rows.push(("gitlab".to_owned(), display_url(&url), source, works));
    }
    if service != Some(Service::Gitlab) {
        let ids: Vec<String> = match instance {
            Some(i) => vec![instance_of(ctx, &Some(i.clone()))?],
            None => ctx.config.instance_ids(),
        };
        for id in ids {
            let url = ctx.config.instance(&id)?.url.clone();
            let (source, works) = match credentials::zendesk_auth(&id) {
                Err(e) => (None, Err(e.to_string())),
                Ok(None) => (None, Err("no credential".into())),
                Ok(Some((auth, source))) => {
                    let checked =
                        match Zendesk::new(&url, auth, ctx.ui.redactor().clone(), ctx.policy()) {
                            Ok(c) => match c.me().await {
                                Ok(me) if me.authenticated() => Ok(me.email.unwrap_or_default()),
                                Ok(_) => Err("Zendesk answered as an anonymous user".into()),
                                Err(e) => Err(e.to_string()),
                            },
                            Err(e) => Err(e.to_string()),
                        };
                    (Some(source), checked)
                }
            };
            rows.push((format!("zendesk {id}"), display_url(&url), source, works));
        }
    }
    let describe = |s: &Option<Source>| {
        s.as_ref()
            .map_or_else(|| "none".to_owned(), ToString::to_string)
    };
    if ctx.json() {
        let items: Vec<_> = rows
            .iter()
            .map(|(what, url, source, works)| {
                json!({"service": what, "url": url, "source": describe(source),
                       "works": works.is_ok(), "user": works.as_ref().ok(), "error": works.as_ref().err()})
            })
            .collect();
        ctx.print_json(&json!(items))?;
    } else {
        let mut out = String::new();
        for (what, url, source, works) in &rows {
            let state = match works {
                Ok(user) => format!("works, as {user}"),
                Err(e) => format!("does not work: {e}"),
            };
            out.push_str(&format!(
                "{what:<22} {url}\n    from: {}\n    {state}\n",
                describe(source)
            ));
        }
        ctx.ui.out(&out)?;
    }
    Ok(Outcome::Done)
}
