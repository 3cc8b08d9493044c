//! `allowed_outbound_hosts`: which addresses a component may open.
//!
//! Entries have Spin's form `<scheme>://<host>[:<port>]`, with `*` for any scheme, host or port,
//! `*.domain` for subdomains, `a..b` port ranges, CIDR host ranges, and a well-known default port
//! per scheme (postgres 5432, redis 6379, http 80, https 443). Entries may use `{{ variable }}`
//! templates; they are expanded when the component's instance is prepared.

use std::net::IpAddr;
use std::ops::Range;

use anyhow::{bail, Context};

/// One allowed-host entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    original: String,
    scheme: Option<String>,
    host: HostPattern,
    port: PortPattern,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    AnySubdomain(String),
    ToSelf,
    Exact(String),
    Cidr(IpAddr, u8),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortPattern {
    Any,
    Port(u16),
    Range(Range<u16>),
}

/// The port a scheme uses when a URL names none.
pub fn well_known_port(scheme: &str) -> Option<u16> {
    match scheme {
        "postgres" => Some(5432),
        "mysql" => Some(3306),
        "redis" => Some(6379),
        "mqtt" => Some(1883),
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

impl AllowedHost {
    /// Parses one entry (already template-expanded).
    pub fn parse(text: &str) -> anyhow::Result<AllowedHost> {
        let url = text.trim();
        let Some((scheme, rest)) = url.split_once("://") else {
            match url {
                "*" | ":" | "" | "?" => bail!("{url:?} is not an allowed outbound host format.\nHosts must be in the form <scheme>://<host>[:<port>], with '*' wildcards allowed for each.\nIf you intended to allow all outbound networking, you can use '*://*:*' - this will obviate all network sandboxing."),
                _ => bail!("{url:?} does not contain a scheme (e.g., 'http://' or '*://')"),
            }
        };
        let (host, rest) = rest.rsplit_once(':').unwrap_or((rest, ""));
        let port = match rest.split_once('/') {
            Some((port, path)) => {
                if !path.is_empty() {
                    bail!("{url:?} has a path but is not allowed to");
                }
                port
            }
            None => rest,
        };
        let scheme = if scheme == "*" {
            None
        } else {
            if scheme.chars().any(|c| !c.is_alphabetic()) {
                bail!(" scheme {scheme:?} contains non alphabetic character");
            }
            Some(scheme.to_owned())
        };
        let host = parse_host(host)?;
        let port = if port.is_empty() {
            let scheme_name = scheme.as_deref().unwrap_or("*");
            let p = well_known_port(scheme_name).with_context(|| {
                format!("no port was provided and the scheme {scheme_name:?} does not have a known default port number")
            })?;
            PortPattern::Port(p)
        } else if port == "*" {
            PortPattern::Any
        } else if let Some((start, end)) = port.split_once("..") {
            let start = start
                .parse()
                .with_context(|| format!("port range {port:?} contains non-number"))?;
            let end = end
                .parse()
                .with_context(|| format!("port range {port:?} contains non-number"))?;
            PortPattern::Range(start..end)
        } else {
            PortPattern::Port(
                port.parse()
                    .with_context(|| format!("port {port:?} is not a number"))?,
            )
        };
        Ok(AllowedHost {
            original: text.to_owned(),
            scheme,
            host,
            port,
        })
    }

    fn allows(&self, url: &OutboundUrl) -> bool {
        let scheme_ok = self.scheme.as_deref().is_none_or(|s| s == url.scheme);
        let host_ok = match &self.host {
            HostPattern::Any => true,
            HostPattern::AnySubdomain(suffix) => url.host.ends_with(suffix.as_str()),
            HostPattern::ToSelf => false,
            HostPattern::Exact(h) => *h == url.host,
            HostPattern::Cidr(net, bits) => url
                .host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| cidr_contains(*net, *bits, ip)),
        };
        let port_ok = match &self.port {
            PortPattern::Any => true,
            pattern => match url.port.or_else(|| well_known_port(&url.scheme)) {
                Some(port) => match pattern {
                    PortPattern::Port(p) => *p == port,
                    PortPattern::Range(r) => r.contains(&port),
                    PortPattern::Any => true,
                },
                None => false,
            },
        };
        scheme_ok && host_ok && port_ok
    }
}

impl std::fmt::Display for AllowedHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.original)
    }
}

fn parse_host(host: &str) -> anyhow::Result<HostPattern> {
    let host = host.trim();
    if host == "*" {
        return Ok(HostPattern::Any);
    }
    if host == "self" || host == "self.alt" {
        return Ok(HostPattern::ToSelf);
    }
    if host.starts_with('{') {
        bail!("host lists are not yet supported");
    }
    if let Some((ip, bits)) = host.split_once('/') {
        if let (Ok(ip), Ok(bits)) = (ip.parse::<IpAddr>(), bits.parse::<u8>()) {
            return Ok(HostPattern::Cidr(ip, bits));
        }
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(HostPattern::Exact(ip.to_string()));
    }
    if matches!(host.split('/').nth(1), Some(path) if !path.is_empty()) {
        bail!("hosts must not contain paths");
    }
    if let Some(domain) = host.strip_prefix("*.") {
        if domain.contains('*') {
            bail!("Invalid allowed host {host}: wildcards are allowed only as prefixes");
        }
        return Ok(HostPattern::AnySubdomain(format!(".{domain}")));
    }
    if host.contains('*') {
        bail!("Invalid allowed host {host}: wildcards are allowed only as subdomains");
    }
    Ok(HostPattern::Exact(host.trim_end_matches('/').to_owned()))
}

fn cidr_contains(net: IpAddr, bits: u8, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let bits = u32::from(bits.min(32));
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            (u32::from(n) & mask) == (u32::from(i) & mask)
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let bits = u32::from(bits.min(128));
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            (u128::from(n) & mask) == (u128::from(i) & mask)
        }
        _ => false,
    }
}

/// A parsed outbound address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundUrl {
    pub scheme: String,
    pub host: String,
    pub port: Option<u16>,
}

impl OutboundUrl {
    /// Parses `url`; when it has no scheme, `{scheme}://` is put in front.
    pub fn parse(url: &str, scheme: &str) -> anyhow::Result<OutboundUrl> {
        let parsed = match url::Url::parse(url) {
            Ok(u) if u.has_host() => u,
            first => match url::Url::parse(&format!("{scheme}://{url}")) {
                Ok(u) => u,
                Err(e) => return Err(first.err().map(anyhow::Error::from).unwrap_or(e.into())),
            },
        };
        Ok(OutboundUrl {
            scheme: parsed.scheme().to_owned(),
            host: parsed
                .host_str()
                .with_context(|| format!("{url:?} does not have a host component"))?
                .to_owned(),
            port: parsed.port(),
        })
    }

    /// `host[:port]` as Spin prints it in denial messages.
    pub fn authority(&self) -> String {
        match self.port {
            Some(port) => format!("{}:{port}", self.host),
            None => self.host.clone(),
        }
    }
}

/// A component's allowed hosts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts(Vec<AllowedHost>);

impl AllowedHosts {
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> anyhow::Result<AllowedHosts> {
        if entries.len() == 1 && entries[0].as_ref() == "insecure:allow-all" {
            bail!("'insecure:allow-all' is not allowed - use '*://*:*' instead if you really want to allow all outbound traffic'");
        }
        entries
            .iter()
            .map(|e| AllowedHost::parse(e.as_ref()))
            .collect::<anyhow::Result<Vec<_>>>()
            .map(AllowedHosts)
    }

    /// Whether `url` (scheme added when missing) may be opened.
    pub fn allows_url(&self, url: &str, default_scheme: &str) -> bool {
        match OutboundUrl::parse(url, default_scheme) {
            Ok(url) => self.allows(&url),
            Err(_) => false,
        }
    }

    pub fn allows(&self, url: &OutboundUrl) -> bool {
        self.0.iter().any(|h| h.allows(url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(entries: &[&str]) -> AllowedHosts {
        AllowedHosts::parse(entries).unwrap()
    }

    #[test]
    fn an_exact_entry_allows_its_address_with_the_default_port() {
        let h = hosts(&["postgres://db.local"]);
        assert!(h.allows_url("postgres://db.local:5432", "postgres"));
        assert!(h.allows_url("postgres://db.local", "postgres"));
        assert!(!h.allows_url("postgres://db.local:5433", "postgres"));
        assert!(!h.allows_url("postgres://other:5432", "postgres"));
        assert!(!h.allows_url("redis://db.local:5432", "redis"));
    }

    #[test]
    fn explicit_ports_wildcards_and_ranges_match() {
        let h = hosts(&[
            "redis://127.0.0.1:56379",
            "http://*.example.com:*",
            "https://api.test:8000..8010",
        ]);
        assert!(h.allows_url("redis://127.0.0.1:56379", "redis"));
        assert!(!h.allows_url("redis://127.0.0.1:6379", "redis"));
        assert!(h.allows_url("http://a.example.com:1234/x", "https"));
        assert!(!h.allows_url("http://example.com/x", "https"));
        assert!(h.allows_url("https://api.test:8005", "https"));
        assert!(!h.allows_url("https://api.test:8010", "https"));
    }

    #[test]
    fn a_cidr_range_allows_addresses_inside_it() {
        let h = hosts(&["*://10.0.0.0/8:*"]);
        assert!(h.allows_url("postgres://10.1.2.3:5432", "postgres"));
        assert!(!h.allows_url("postgres://11.1.2.3:5432", "postgres"));
    }

    #[test]
    fn nothing_is_allowed_by_default() {
        assert!(!AllowedHosts::default().allows_url("https://example.com", "https"));
    }

    #[test]
    fn entries_with_paths_or_without_a_scheme_are_refused() {
        assert!(AllowedHost::parse("postgres://u@h:5432/db").is_err());
        assert!(AllowedHost::parse("example.com").is_err());
        assert!(AllowedHost::parse("*").is_err());
        assert!(AllowedHost::parse("ftp://example.com").is_err());
        assert!(AllowedHosts::parse(&["insecure:allow-all"]).is_err());
    }

    #[test]
    fn a_connection_string_with_credentials_is_checked_by_host_and_port() {
        let h = hosts(&["postgres://127.0.0.1:55432"]);
        assert!(h.allows_url(
            "postgres://spincart:secret@127.0.0.1:55432/spincart",
            "postgres"
        ));
    }
}
