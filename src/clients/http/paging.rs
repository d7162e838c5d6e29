//! Lists followed page by page (GitLab's `Link` header and `X-Next-Page`, Zendesk's cursor),
//! bounded in pages, and read only on the configured origin whatever a next-page link names.

use super::*;

impl Http {
    /// Sends a GET with cursor pagination (Zendesk: `page[size]`, `meta.has_more`, `links.next`)
    /// and gathers the `key` array of every page.
    pub async fn cursor_paged<T: DeserializeOwned>(
        &self,
        call: Call<'_>,
        key: &str,
    ) -> Result<Vec<T>, ApiError> {
        self.pages(call, |answer| {
            let page: serde_json::Value = decode(&answer.body)?;
            let items = page
                .get(key)
                .cloned()
                .ok_or_else(|| format!("no `{key}` list in the answer"))?;
            let items: Vec<T> =
                serde_json::from_value(items).map_err(|e| format!("`{key}`: {e}"))?;
            let has_more = page
                .pointer("/meta/has_more")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false);
            let offset_next = page.get("next_page").and_then(serde_json::Value::as_str);
            let cursor_next = page
                .pointer("/links/next")
                .and_then(serde_json::Value::as_str)
                .filter(|_| has_more);
            if has_more && cursor_next.is_none() && offset_next.is_none() {
                return Err("`meta.has_more` is true but the answer has no next-page link".into());
            }
            Ok((items, cursor_next.or(offset_next).map(str::to_owned)))
        })
        .await
    }

    /// Sends a GET and follows `Link: rel="next"` to the last page.
    pub async fn paged<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<Vec<T>, ApiError> {
        self.pages(call, |answer| {
            Ok((decode(&answer.body)?, next_link(&answer.headers)))
        })
        .await
    }

    /// Follows next-page links, read from each answer by `read`, to the last page, at most
    /// `MAX_PAGES` of them; a link back to a page already read is an error, never a silent end.
    /// A link to another origin (Zendesk may name the account's canonical host) is followed on
    /// this client's own origin, same path and cursor: the credential never goes elsewhere.
    async fn pages<T>(
        &self,
        call: Call<'_>,
        read: impl Fn(&Answer) -> Result<(Vec<T>, Option<String>), String>,
    ) -> Result<Vec<T>, ApiError> {
        let mut url = self.url(&call)?;
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            let answer = self.send_to(&call, url.clone()).await?;
            let decode_err = |message: String| ApiError::Decode {
                method: call.method.clone(),
                url: self.shown(&url),
                message: self.redactor.redact(&without_values(&message)),
            };
            let (items, next) = read(&answer).map_err(decode_err)?;
            out.extend(items);
            let Some(next) = next else {
                return Ok(out);
            };
            let next =
                Url::parse(&next).map_err(|e| decode_err(format!("bad next-page link: {e}")))?;
            let next = self.on_own_origin(&call, &url, next)?;
            seen.insert(url.clone());
            if seen.contains(&next) {
                return Err(ApiError::Endless {
                    method: call.method.clone(),
                    url: self.shown(&url),
                    message: "the next-page link points back to a page already read".into(),
                });
            }
            url = next;
        }
        Err(ApiError::Endless {
            method: call.method.clone(),
            url: self.shown(&url),
            message: format!("the list goes on past {MAX_PAGES} pages"),
        })
    }

    /// A next-page link on this client's origin: as given when it is already there; else the
    /// same path and query here, when the path lies below this client's base path.
    fn on_own_origin(&self, call: &Call<'_>, from: &Url, next: Url) -> Result<Url, ApiError> {
        if next.origin() == self.base.origin() {
            return Ok(next);
        }
        let base_path = self.base.path().trim_end_matches('/');
        if !next.path().starts_with(&format!("{base_path}/")) {
            return Err(ApiError::CrossOriginRedirect {
                method: call.method.clone(),
                url: self.shown(from),
                location: self.shown(&next),
            });
        }
        let mut here = self.base.clone();
        here.set_path(next.path());
        here.set_query(next.query());
        tracing::debug!(link = %self.shown(&next), "next-page link on another host: read on this one");
        Ok(here)
    }
}

/// The `rel="next"` URL of a `Link` header.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get(reqwest::header::LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"" || p.trim() == "rel=next");
        is_next.then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}
