//! Vendor clients: `http` holds the policy every call shares; `gitlab` has one function per
//! GitLab endpoint tokrot uses.

pub mod gitlab;
pub mod http;
pub mod zendesk;
