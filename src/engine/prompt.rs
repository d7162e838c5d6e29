//! Everything the walk asks goes through `Prompter`, so that the engine can be driven by a
//! script in tests and by dialoguer on a terminal. No command calls dialoguer directly.

use std::io;

use dialoguer::theme::{ColorfulTheme, SimpleTheme, Theme};
use dialoguer::{Confirm, Input, Password, Select};
use secrecy::SecretString;

/// Why a question got no answer.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    /// There is no terminal to ask on.
    #[error("no terminal to ask on")]
    NotATerminal,
    /// The operator pressed Ctrl-C or closed the input.
    #[error("interrupted")]
    Interrupted,
    /// `--yes` was given and the value has no flag or stdin source.
    #[error("{what} cannot be answered with --yes: {how}")]
    Unattended {
        /// What was asked.
        what: String,
        /// How to give it instead.
        how: String,
    },
    /// Any other terminal failure.
    #[error("terminal error: {0}")]
    Io(io::Error),
}

impl From<dialoguer::Error> for PromptError {
    fn from(e: dialoguer::Error) -> Self {
        let dialoguer::Error::IO(io) = e;
        match io.kind() {
            io::ErrorKind::NotConnected => PromptError::NotATerminal,
            io::ErrorKind::Interrupted | io::ErrorKind::UnexpectedEof => PromptError::Interrupted,
            _ => PromptError::Io(io),
        }
    }
}

/// The questions a walk asks.
pub trait Prompter {
    /// A manual step: has the operator done it?
    fn confirm(&mut self, prompt: &str) -> Result<bool, PromptError>;
    /// A gate: yes goes on, no stops the run.
    fn gate(&mut self, question: &str) -> Result<bool, PromptError>;
    /// A hidden value, never echoed.
    fn secret(&mut self, prompt: &str) -> Result<SecretString, PromptError>;
    /// A visible single-line value, checked by `validate` before it is accepted.
    fn text(
        &mut self,
        prompt: &str,
        validate: &dyn Fn(&str) -> Result<(), String>,
    ) -> Result<String, PromptError>;
    /// One item of a list.
    fn select(&mut self, prompt: &str, items: &[String]) -> Result<usize, PromptError>;
    /// A visible value that may be left empty (`None`); a non-empty one is checked by `validate`.
    fn optional_text(
        &mut self,
        prompt: &str,
        validate: &dyn Fn(&str) -> Result<(), String>,
    ) -> Result<Option<String>, PromptError>;
}

/// Said when a hidden prompt gets an empty answer, before it asks again.
const EMPTY_PASTE: &str = "empty: paste the token, or Ctrl-C to stop";

/// Prompts on the terminal (stderr), with dialoguer.
pub struct TerminalPrompter {
    theme: Box<dyn Theme + Send + Sync>,
}

impl TerminalPrompter {
    /// A prompter with colours or without.
    pub fn new(color: bool) -> Self {
        let theme: Box<dyn Theme + Send + Sync> = if color {
            Box::new(ColorfulTheme::default())
        } else {
            Box::new(SimpleTheme)
        };
        Self { theme }
    }
}

/// A prompt's answer. A prompt that got none (Ctrl-C, a closed input) leaves the terminal as
/// it found it before anything else is printed: the cursor shown again (a pick list hides it)
/// and the line ended, so that what follows does not start on the prompt's line.
fn asked<T>(answer: impl FnOnce() -> Result<T, dialoguer::Error>) -> Result<T, PromptError> {
    let shown = crate::terminal::Prompting::start();
    let answer = answer();
    if answer.is_err() {
        // Still marked as shown: a signal's handler (dialoguer raises SIGINT itself after a
        // Ctrl-C key) and this restore the terminal once between them.
        crate::terminal::restore_if_prompting();
    }
    drop(shown);
    answer.map_err(PromptError::from)
}

/// The columns dialoguer's marks take around a prompt (`? `, ` [y/n] `, the answer).
const PROMPT_MARKS: usize = 16;

/// A prompt as dialoguer gets it: made safe, and when it is longer than the terminal, fitted
/// between words, its head written as plain lines above and only its last line left to
/// dialoguer, which redraws its own line alone (a prompt the terminal wraps leaves a stale copy
/// of itself above the answer).
fn staged(prompt: &str) -> String {
    let prompt = safe(prompt);
    let Some(width) = crate::terminal::stderr_width() else {
        return prompt;
    };
    let fitted = crate::text::fit(&prompt, width.saturating_sub(PROMPT_MARKS).max(20));
    let mut lines: Vec<&str> = fitted.lines().collect();
    let last = lines.pop().unwrap_or_default().to_owned();
    let term = console::Term::stderr();
    for line in lines {
        let _ = term.write_line(line);
    }
    last
}

/// A prompt may quote a vendor (a question an action asks): only text reaches the terminal.
fn safe(prompt: &str) -> String {
    crate::text::terminal_safe(prompt, false).into_owned()
}

impl Prompter for TerminalPrompter {
    fn confirm(&mut self, prompt: &str) -> Result<bool, PromptError> {
        asked(|| {
            Confirm::with_theme(self.theme.as_ref())
                .with_prompt(staged(prompt))
                .interact()
        })
    }

    fn gate(&mut self, question: &str) -> Result<bool, PromptError> {
        asked(|| {
            Confirm::with_theme(self.theme.as_ref())
                .with_prompt(staged(question))
                .interact()
        })
    }

    fn secret(&mut self, prompt: &str) -> Result<SecretString, PromptError> {
        // dialoguer asks again without a word after an empty answer when empty answers are
        // refused: they are let through to the check, which says why it asks again.
        let value = asked(|| {
            Password::with_theme(self.theme.as_ref())
                .with_prompt(format!("{} (hidden)", staged(prompt)))
                .allow_empty_password(true)
                .validate_with(|v: &String| {
                    if v.trim().is_empty() {
                        return Err(EMPTY_PASTE.to_owned());
                    }
                    let pasted = SecretString::from(v.trim().to_owned());
                    crate::secret::check_token(&pasted).map_err(|e| format!("the paste {e}"))
                })
                .interact()
        })?;
        Ok(SecretString::from(value.trim().to_owned()))
    }

    fn text(
        &mut self,
        prompt: &str,
        validate: &dyn Fn(&str) -> Result<(), String>,
    ) -> Result<String, PromptError> {
        Ok(asked(|| {
            Input::<String>::with_theme(self.theme.as_ref())
                .with_prompt(staged(prompt))
                .validate_with(|v: &String| validate(v.trim()))
                .interact_text()
        })?
        .trim()
        .to_owned())
    }

    fn optional_text(
        &mut self,
        prompt: &str,
        validate: &dyn Fn(&str) -> Result<(), String>,
    ) -> Result<Option<String>, PromptError> {
        let v = asked(|| {
            Input::<String>::with_theme(self.theme.as_ref())
                .with_prompt(staged(prompt))
                .allow_empty(true)
                .validate_with(|v: &String| {
                    if v.trim().is_empty() {
                        Ok(())
                    } else {
                        validate(v.trim())
                    }
                })
                .interact_text()
        })?;
        let v = v.trim().to_owned();
        Ok((!v.is_empty()).then_some(v))
    }

    fn select(&mut self, prompt: &str, items: &[String]) -> Result<usize, PromptError> {
        // Items name what a vendor lists (tokens, apps): text, on one line each.
        let items: Vec<String> = items.iter().map(|i| crate::text::one_line(i)).collect();
        asked(|| {
            Select::with_theme(self.theme.as_ref())
                .with_prompt(staged(prompt))
                .items(&items)
                .default(0)
                .interact()
        })
    }
}

/// `--yes`: confirmations are yes; gates are not answered; every value must already be there.
pub struct Unattended;

impl Prompter for Unattended {
    fn confirm(&mut self, _prompt: &str) -> Result<bool, PromptError> {
        Ok(true)
    }

    /// A gate is a human decision: `--yes` never answers it (only `--approve GATE_ID`).
    fn gate(&mut self, question: &str) -> Result<bool, PromptError> {
        Err(PromptError::Unattended {
            what: format!("the gate `{question}`"),
            how: "a human answers it on a terminal, or --approve GATE_ID[=EVIDENCE] records who decided and why".into(),
        })
    }

    fn secret(&mut self, prompt: &str) -> Result<SecretString, PromptError> {
        Err(PromptError::Unattended {
            what: format!("`{prompt}`"),
            how: "pass the token on stdin with --token-stdin".into(),
        })
    }

    fn text(
        &mut self,
        prompt: &str,
        _validate: &dyn Fn(&str) -> Result<(), String>,
    ) -> Result<String, PromptError> {
        Err(PromptError::Unattended {
            what: format!("`{prompt}`"),
            how: "give it with its flag".into(),
        })
    }

    fn optional_text(
        &mut self,
        _prompt: &str,
        _validate: &dyn Fn(&str) -> Result<(), String>,
    ) -> Result<Option<String>, PromptError> {
        Ok(None)
    }

    fn select(&mut self, prompt: &str, _items: &[String]) -> Result<usize, PromptError> {
        Err(PromptError::Unattended {
            what: format!("`{prompt}`"),
            how: "give it with its flag".into(),
        })
    }
}
