//! The tiny template language of runbook text: `{param.project}`, `{instance.admin_url}`,
//! `{gitlab.url}`, `{secret.token}` (arguments only). `{{` and `}}` stand for literal braces.
//! Kept deliberately small: substitution only, no logic, so a runbook stays data.

/// A parsed template: literal text and variable references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Text shown as is.
    Literal(String),
    /// A `{…}` reference.
    Var(VarRef),
}

/// A `{namespace.name[.field]}` reference, with its byte offset in the template source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarRef {
    /// `param`, `instance`, `gitlab` or `secret`.
    pub namespace: String,
    /// The variable's name within the namespace.
    pub name: String,
    /// An optional field, e.g. `url` in `{param.project.url}`.
    pub field: Option<String>,
    /// Byte offset of the `{` in the source.
    pub offset: usize,
}

impl VarRef {
    /// The reference as written, without braces.
    pub fn path(&self) -> String {
        match &self.field {
            Some(f) => format!("{}.{}.{}", self.namespace, self.name, f),
            None => format!("{}.{}", self.namespace, self.name),
        }
    }
}

/// A template that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// Byte offset of the problem in the source.
    pub offset: usize,
    /// What is wrong and what to write instead.
    pub message: String,
}

impl Template {
    /// Parses template text.
    pub fn parse(src: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = src.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|(_, c)| *c) == Some('{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().map(|(_, c)| *c) == Some('}') => {
                    chars.next();
                    literal.push('}');
                }
                '}' => {
                    return Err(TemplateError {
                        offset: i,
                        message: "a lone `}`: write `}}` for a literal brace".into(),
                    });
                }
                '{' => {
                    let mut inner = String::new();
                    let mut closed = false;
                    for (_, c) in chars.by_ref() {
                        if c == '}' {
                            closed = true;
                            break;
                        }
                        inner.push(c);
                    }
                    if !closed {
                        return Err(TemplateError {
                            offset: i,
                            message: "a `{` without its `}`: write `{{` for a literal brace".into(),
                        });
                    }
                    let var = parse_var(&inner, i)?;
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Var(var));
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(Self { parts })
    }

    /// The pieces, in order.
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// The variable references, in order.
    pub fn vars(&self) -> impl Iterator<Item = &VarRef> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(v),
            Part::Literal(_) => None,
        })
    }

    /// Renders the template, asking `lookup` for each variable; `None` leaves a placeholder.
    pub fn render(&self, mut lookup: impl FnMut(&VarRef) -> Option<String>) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Literal(s) => out.push_str(s),
                Part::Var(v) => match lookup(v) {
                    Some(value) => out.push_str(&value),
                    None => {
                        out.push('<');
                        out.push_str(&placeholder(v));
                        out.push('>');
                    }
                },
            }
        }
        out
    }
}

/// How an unresolved variable is shown: `<project>`, `<instance admin URL>`.
pub fn placeholder(v: &VarRef) -> String {
    match (v.namespace.as_str(), v.name.as_str(), v.field.as_deref()) {
        ("instance", "admin_url", _) => "instance admin URL".into(),
        ("instance", "url", _) => "instance URL".into(),
        ("instance", "label", _) => "instance".into(),
        ("instance", "id", _) => "instance".into(),
        ("param", name, Some("url")) => format!("{name} URL"),
        (_, name, _) => name.replace('_', "-"),
    }
}

fn parse_var(inner: &str, offset: usize) -> Result<VarRef, TemplateError> {
    let bad = |message: String| TemplateError { offset, message };
    let segments: Vec<&str> = inner.split('.').collect();
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    if !(2..=3).contains(&segments.len()) || !segments.iter().all(|s| valid(s)) {
        return Err(bad(format!(
            "`{{{inner}}}` is not a variable: write `{{namespace.name}}` such as `{{param.project}}` or `{{instance.admin_url}}`, or `{{{{` for a literal brace"
        )));
    }
    Ok(VarRef {
        namespace: segments[0].to_owned(),
        name: segments[1].to_owned(),
        field: segments.get(2).map(|s| (*s).to_owned()),
        offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_literals_vars_and_escapes() {
        let t =
            Template::parse("Open {instance.admin_url} {{literal}} {param.project.url}").unwrap();
        let vars: Vec<String> = t.vars().map(VarRef::path).collect();
        assert_eq!(vars, ["instance.admin_url", "param.project.url"]);
        let out = t.render(|v| (v.namespace == "instance").then(|| "https://z/admin".into()));
        assert_eq!(out, "Open https://z/admin {literal} <project URL>");
    }

    #[test]
    fn offsets_point_at_the_brace() {
        let t = Template::parse("ab {secret.token}").unwrap();
        assert_eq!(t.vars().next().unwrap().offset, 3);
    }

    #[test]
    fn malformed_templates_are_refused() {
        for (src, offset) in [
            ("a { b", 2),
            ("x}", 1),
            ("{}", 0),
            ("{a}", 0),
            ("{A.b}", 0),
            ("{a.b.c.d}", 0),
        ] {
            let err = Template::parse(src).unwrap_err();
            assert_eq!(err.offset, offset, "{src}: {}", err.message);
        }
    }
}
