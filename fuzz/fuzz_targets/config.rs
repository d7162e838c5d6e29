//! The config file: parsed, never a panic; what is accepted passes the URL rule.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(config) = tokrot::config::Config::from_text(std::path::Path::new("c.toml"), text)
    {
        for url in
            std::iter::once(&config.gitlab_url).chain(config.instances.values().map(|i| &i.url))
        {
            assert!(url.username().is_empty() && url.password().is_none());
            assert!(url.scheme() == "https" || tokrot::config::is_loopback(url));
        }
    }
});
