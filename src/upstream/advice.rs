//! What an error result tells the agent about calling again. Agents retry, so the advice must
//! be true for the operation at hand: one of
//!
//! - **nothing reached the API** (the request could not be built, the connection or TLS failed,
//!   the API said it did not process it): calling again is safe;
//! - **the API may have acted** (no answer in time, the connection dropped after the request
//!   was sent, a 5xx): safe to call again only when the operation is idempotent; otherwise the
//!   agent is told not to repeat the call before checking, naming a read tool of the same
//!   resource when the manifest has one;
//! - **the API refused** (4xx): fix the arguments, or wait the time the API asked for.

use std::time::Duration;

use crate::gateway::{Gateway, PathPart, Tool};

/// Whether the agent calling `tool` twice has the effect of calling it once: its method is
/// idempotent (GET, HEAD, OPTIONS, PUT, DELETE) or the manifest says so
/// (`annotations.idempotent`, which defaults from the method). An idempotency key does not make
/// it so: it covers the gateway's own retries of one call ([`Tool::retry_safe`]), and a new call
/// from the agent gets a new key.
pub(crate) fn agent_may_repeat(tool: &Tool) -> bool {
    tool.annotations.idempotent_hint || tool.annotations.read_only_hint
}

/// The advice after the request may have reached the API without an answer coming back.
pub(crate) fn may_have_acted(g: &Gateway, tool: &Tool) -> String {
    if agent_may_repeat(tool) {
        return " The operation is idempotent, so calling again is safe.".to_string();
    }
    let check = match read_tool_for(g, tool) {
        Some(name) => format!(", for example with `{name}`"),
        None => String::new(),
    };
    if tool.idempotency_key.is_some() {
        return format!(
            " The API may have received the request and acted on it. The gateway's own retries of this call carry the same idempotency key, but a new call gets a new one: do not call again before checking whether it took effect{check}."
        );
    }
    format!(
        " The API may have received the request and acted on it ({} is not idempotent): do not call again before checking whether it took effect{check}.",
        tool.plan.method
    )
}

/// Advice for an answer with a non-success `status`.
pub(crate) fn for_status(
    g: &Gateway,
    tool: &Tool,
    status: http::StatusCode,
    headers: &http::HeaderMap,
) -> String {
    let wait = retry_after(headers)
        .map(|d| match d.as_secs().max(1) {
            1 => "wait 1 second".to_string(),
            n => format!("wait {n} seconds"),
        })
        .unwrap_or_else(|| "wait a little".to_string());
    let location = headers
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(|l| format!(" `{l}`"))
        .unwrap_or_default();
    match status.as_u16() {
        303 => format!(
            " The call took effect and the API points to its result at{location}; do not repeat it."
        ),
        300..=399 => format!(
            " The API redirected the call to{location}. The gateway does not follow redirects (its credentials stay with the upstream host), so nothing was done there; the gateway's upstream.base_url may be out of date."
        ),
        401 => " The upstream rejected the gateway's credentials (authentication failed); retrying will not help until the gateway's upstream credentials are fixed.".to_string(),
        403 => " The upstream refused access (authorization failed) for this operation or resource; nothing was changed.".to_string(),
        404 | 410 => " The resource does not exist; check the identifiers.".to_string(),
        408 => " The API gave up waiting for the request and did not process it, so calling again is safe.".to_string(),
        409 => " The API refused it as conflicting with the resource's current state; look at the resource before trying again.".to_string(),
        429 => format!(" The API is limiting the rate of calls and did not process this one: {wait} and call again."),
        503 => format!(" The API is unavailable and did not process the call: {wait} and call again."),
        400..=499 => " The API refused the request and changed nothing; fix the arguments per its message.".to_string(),
        _ if agent_may_repeat(tool) => " The API failed; the operation is idempotent, so calling again after a pause is safe.".to_string(),
        _ => format!(" The API failed partway.{}", may_have_acted(g, tool)),
    }
}

/// `Retry-After` as a delay: delay-seconds or an HTTP-date (RFC 9110 §10.2.3), capped at a day.
pub(crate) fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let v = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    let d = match v.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let at = httpdate(v)?;
            at.duration_since(std::time::SystemTime::now())
                .unwrap_or(Duration::ZERO)
        }
    };
    Some(d.min(Duration::from_secs(86_400)))
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form `Retry-After` dates take.
fn httpdate(s: &str) -> Option<std::time::SystemTime> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == month)? as i64
        + 1;
    let (day, year): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let hms: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, mi, se] = hms.as_slice() else {
        return None;
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + se;
    Some(std::time::UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

/// A read-only tool of the same resource as `tool`, to check whether a write took effect: one
/// whose path is the tool's own, an item under it (`/pets` → `/pets/{id}`), or its collection
/// (`/pets/{id}/photos` → `/pets/{id}`).
fn read_tool_for<'g>(g: &'g Gateway, tool: &Tool) -> Option<&'g str> {
    let own = shape(&tool.plan.path);
    let item = format!("{own}/{{}}");
    let parent = own.strip_suffix("/{}").map(str::to_string);
    let reads = || {
        g.tools
            .iter()
            .filter(|t| t.annotations.read_only_hint && t.name != tool.name)
    };
    [Some(own.clone()), Some(item), parent]
        .into_iter()
        .flatten()
        .find_map(|want| reads().find(|t| shape(&t.plan.path) == want))
        .map(|t| t.name.as_str())
}

/// A path template with its parameters blanked: `/pets/{petId}` → `/pets/{}`.
fn shape(path: &[PathPart]) -> String {
    let mut out = String::new();
    for p in path {
        match p {
            PathPart::Literal(s) => out.push_str(s),
            PathPart::Param(_) => out.push_str("{}"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_and_http_dates() {
        let mut h = http::HeaderMap::new();
        h.insert(http::header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            http::header::RETRY_AFTER,
            "Sun, 06 Nov 1994 08:49:37 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO), "a date in the past");
        assert_eq!(
            httpdate("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(std::time::UNIX_EPOCH + Duration::from_secs(784_111_777))
        );
        h.insert(
            http::header::RETRY_AFTER,
            "Fri, 06 Nov 2999 08:49:37 GMT".parse().unwrap(),
        );
        assert_eq!(
            retry_after(&h),
            Some(Duration::from_secs(86_400)),
            "a date far ahead, capped at a day"
        );
        h.insert(http::header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn paths_compare_by_shape() {
        let p = vec![
            PathPart::Literal("/pets/".into()),
            PathPart::Param("petId".into()),
        ];
        assert_eq!(shape(&p), "/pets/{}");
    }
}
