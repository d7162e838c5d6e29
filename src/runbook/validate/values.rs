//! A parameter's value checked against its type, for a runbook's defaults, a command line, an
//! inventory entry and a target spec alike.

use crate::config::is_cli_id;
use crate::runbook::ParamType;

/// Checks a parameter value against its type; the error says what is expected.
pub fn check_value(ty: &ParamType, value: &str) -> Result<(), String> {
    if value.contains(['\n', '\r']) {
        return Err("must be a single line".into());
    }
    match ty {
        ParamType::String => {
            if value.trim().is_empty() {
                return Err("must not be empty".into());
            }
        }
        ParamType::Integer => {
            if value.is_empty() || !value.chars().all(|c| c.is_ascii_digit()) || value.len() > 18 {
                return Err("must be a whole number such as 42".into());
            }
        }
        ParamType::Segment => {
            let ok = (1..=255).contains(&value.len())
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !ok {
                return Err(
                    "must be 1 to 255 letters, digits, `-` and `_` (it goes into a URL path)"
                        .into(),
                );
            }
        }
        ParamType::TokenId => {
            if value != "self" {
                check_value(&ParamType::Integer, value)
                    .map_err(|_| "must be a token id such as 42, or `self`".to_owned())?;
            }
        }
        ParamType::Date => {
            let ok = value.len() == 10 && value.parse::<jiff::civil::Date>().is_ok();
            if !ok {
                return Err("must be a date written YYYY-MM-DD, such as 2027-03-31".into());
            }
        }
        ParamType::Instance => {
            if !is_cli_id(value) {
                return Err("must be an instance id such as `global`".into());
            }
        }
        ParamType::Project | ParamType::Group => check_namespace_path(value)?,
        ParamType::Choice(choices) => {
            if !choices.iter().any(|c| c == value) {
                return Err(format!("must be one of: {}", choices.join(", ")));
            }
        }
        ParamType::Flag => {
            if value != "true" && value != "false" {
                return Err("is a flag: true or false".into());
            }
        }
    }
    Ok(())
}

/// A GitLab project or group: a numeric id or a path like `group/sub/project`. A segment of
/// dots only (`.`, `..`) is refused: a URL parser resolves it even percent-encoded, so
/// `/projects/../hooks/9` would reach GitLab's admin `/hooks/9`.
pub fn check_namespace_path(value: &str) -> Result<(), String> {
    let numeric = !value.is_empty() && value.chars().all(|c| c.is_ascii_digit());
    if numeric {
        return Ok(());
    }
    for seg in value.split('/') {
        if seg.is_empty() {
            return Err(
                "has an empty path segment; a path is like group/sub/project, without a leading, trailing or double `/`".into(),
            );
        }
        if seg.chars().all(|c| c == '.') {
            return Err(format!(
                "has the path segment `{seg}`; a path is like group/sub/project, each part a name"
            ));
        }
        if !seg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err("must be a numeric id or a path like group/sub/project".into());
        }
    }
    Ok(())
}
