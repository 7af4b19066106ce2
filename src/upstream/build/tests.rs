//! Request building, value by value: what each argument puts on the wire.
use super::*;
use serde_json::json;
use std::time::Duration;

fn upstream(base: &str) -> Upstream {
    Upstream {
        base_url: url::Url::parse(base).unwrap(),
        headers: vec![],
        timeout: Duration::from_secs(1),
        max_response_bytes: 1024,
        auth: None,
        tls: None,
        identity_headers: Vec::new(),
        retry: crate::gateway::RetryPolicy::default(),
        idempotency_key: None,
        files: Default::default(),
    }
}

fn param(wire: &str, location: ParamLocation, style: ParamStyle, explode: bool) -> ParamBinding {
    ParamBinding {
        arg: Some(wire.to_string()),
        wire: wire.to_string(),
        location,
        style,
        explode,
        allow_reserved: false,
        fixed: None,
        default: None,
        json_encoded: false,
    }
}

fn plan(path: &str, params: Vec<ParamBinding>) -> CallPlan {
    let mut parts = Vec::new();
    for (i, chunk) in path.split('{').enumerate() {
        if i == 0 {
            parts.push(PathPart::Literal(chunk.to_string()));
            continue;
        }
        let (name, rest) = chunk.split_once('}').unwrap();
        parts.push(PathPart::Param(name.to_string()));
        if !rest.is_empty() {
            parts.push(PathPart::Literal(rest.to_string()));
        }
    }
    CallPlan {
        method: Method::GET,
        path: parts,
        params,
        body: None,
        base_url: None,
        credentials: true,
    }
}

fn url_for(base: &str, path: &str, params: Vec<ParamBinding>, args: Value) -> String {
    let Value::Object(args) = args else { panic!() };
    build(&upstream(base), &plan(path, params), &args)
        .unwrap()
        .url
}

#[test]
fn path_values_cannot_escape_their_segment_or_change_the_host() {
    let p = || {
        vec![param(
            "name",
            ParamLocation::Path,
            ParamStyle::Simple,
            false,
        )]
    };
    let cases = [
        (
            "../etc/passwd",
            "http://api.test/v1/files/..%2Fetc%2Fpasswd/raw",
        ),
        ("a/b", "http://api.test/v1/files/a%2Fb/raw"),
        ("?x=1", "http://api.test/v1/files/%3Fx%3D1/raw"),
        ("#frag", "http://api.test/v1/files/%23frag/raw"),
        ("%2e%2e", "http://api.test/v1/files/%252e%252e/raw"),
        ("@evil.com", "http://api.test/v1/files/%40evil.com/raw"),
        (
            "héllo wörld",
            "http://api.test/v1/files/h%C3%A9llo%20w%C3%B6rld/raw",
        ),
    ];
    for (value, want) in cases {
        let got = url_for(
            "http://api.test/v1",
            "/files/{name}/raw",
            p(),
            json!({"name": value}),
        );
        assert_eq!(got, want, "value {value:?}");
        assert_eq!(url::Url::parse(&got).unwrap().host_str(), Some("api.test"));
    }
}

#[test]
fn dot_segments_are_refused_because_url_parsers_resolve_them_even_encoded() {
    for v in [".", ".."] {
        let Value::Object(args) = json!({"name": v}) else {
            panic!()
        };
        let p = plan(
            "/files/{name}",
            vec![param(
                "name",
                ParamLocation::Path,
                ParamStyle::Simple,
                false,
            )],
        );
        assert_eq!(
            build(&upstream("http://h"), &p, &args).unwrap_err(),
            BuildError::DotSegment("name".into())
        );
    }
    assert_eq!(
        url::Url::parse("http://h/a/%2E%2E/b").unwrap().path(),
        "/b",
        "why: %2E%2E is resolved"
    );
    assert_eq!(
        url_for(
            "http://h",
            "/f/{name}",
            vec![param(
                "name",
                ParamLocation::Path,
                ParamStyle::Simple,
                false
            )],
            json!({"name": "..."})
        ),
        "http://h/f/..."
    );
}

#[test]
fn base_url_and_path_join_with_exactly_one_slash() {
    for base in ["http://api.test/v1", "http://api.test/v1/"] {
        assert_eq!(
            url_for(base, "/pets", vec![], json!({})),
            "http://api.test/v1/pets"
        );
    }
    assert_eq!(
        url_for("http://api.test", "/pets", vec![], json!({})),
        "http://api.test/pets"
    );
}

#[test]
fn query_styles_follow_openapi() {
    let q = |style, explode, v: Value| {
        let url = url_for(
            "http://h",
            "/x",
            vec![param("f", ParamLocation::Query, style, explode)],
            json!({"f": v}),
        );
        url.split_once('?')
            .map(|(_, q)| q.to_string())
            .unwrap_or_default()
    };
    assert_eq!(q(ParamStyle::Form, true, json!(["a", "b"])), "f=a&f=b");
    assert_eq!(q(ParamStyle::Form, false, json!(["a", "b"])), "f=a%2Cb");
    assert_eq!(
        q(ParamStyle::Form, true, json!({"x": 1, "y": "z"})),
        "x=1&y=z"
    );
    assert_eq!(q(ParamStyle::Form, false, json!({"x": 1})), "f=x%2C1");
    assert_eq!(
        q(ParamStyle::SpaceDelimited, false, json!(["a", "b"])),
        "f=a%20b"
    );
    assert_eq!(
        q(ParamStyle::PipeDelimited, false, json!(["a", "b"])),
        "f=a%7Cb"
    );
    assert_eq!(
        q(
            ParamStyle::DeepObject,
            true,
            json!({"color": "red", "size": {"min": 1}})
        ),
        "f%5Bcolor%5D=red&f%5Bsize%5D%5Bmin%5D=1"
    );
    assert_eq!(
        q(ParamStyle::DeepObject, true, json!(["a", "b"])),
        "f%5B%5D=a&f%5B%5D=b"
    );
    assert_eq!(q(ParamStyle::Form, true, json!("a&b=c")), "f=a%26b%3Dc");
    assert_eq!(q(ParamStyle::Form, true, json!(true)), "f=true");
    assert_eq!(q(ParamStyle::Form, true, Value::Null), "");
}

#[test]
fn header_values_with_line_breaks_are_refused() {
    let Value::Object(args) = json!({"X-Trace": "a\r\nX-Admin: 1"}) else {
        panic!()
    };
    let err = build(
        &upstream("http://h"),
        &plan(
            "/x",
            vec![param(
                "X-Trace",
                ParamLocation::Header,
                ParamStyle::Simple,
                false,
            )],
        ),
        &args,
    )
    .unwrap_err();
    assert_eq!(err, BuildError::BadHeader("X-Trace".into()));
}

#[test]
fn cookies_join_into_one_header_and_credentials_are_applied() {
    let mut up = upstream("http://h");
    up.auth = Some(UpstreamAuth::ApiKey {
        location: ApiKeyLocation::Query,
        name: "key".into(),
        value: crate::secret::Secret::new("s3cr et", "env:K"),
    });
    let Value::Object(args) = json!({"a": "1", "b": "x y"}) else {
        panic!()
    };
    let parts = build(
        &up,
        &plan(
            "/x",
            vec![
                param("a", ParamLocation::Cookie, ParamStyle::Form, true),
                param("b", ParamLocation::Cookie, ParamStyle::Form, true),
            ],
        ),
        &args,
    )
    .unwrap();
    assert_eq!(parts.url, "http://h/x?key=s3cr%20et");
    let cookie = parts
        .headers
        .iter()
        .find(|(n, _)| n == http::header::COOKIE)
        .unwrap();
    assert_eq!(cookie.1, "a=1; b=x%20y");
}

#[test]
fn dot_and_empty_segments_are_refused_whatever_the_style_produced_them() {
    let cases = [
        (ParamStyle::Simple, false, json!([".."]), "DotSegment"),
        (ParamStyle::Simple, false, json!(["."]), "DotSegment"),
        (ParamStyle::Simple, false, json!([]), "EmptySegment"),
        (ParamStyle::Simple, false, json!(""), "EmptySegment"),
        (ParamStyle::Label, false, json!(["."]), "DotSegment"),
        (ParamStyle::Label, false, json!([""]), "DotSegment"),
        (ParamStyle::Label, true, json!(["", ""]), "DotSegment"),
    ];
    for (style, explode, v, want) in cases {
        let p = plan(
            "/t/{v}/n",
            vec![param("v", ParamLocation::Path, style, explode)],
        );
        let Value::Object(args) = json!({ "v": v }) else {
            panic!()
        };
        let err = build(&upstream("http://h"), &p, &args).unwrap_err();
        assert!(
            format!("{err:?}").starts_with(want),
            "{style:?} {v}: {err:?}"
        );
    }
    // Values that only look like dots stay one ordinary segment.
    assert_eq!(
        url_for(
            "http://h",
            "/t/{v}/n",
            vec![param("v", ParamLocation::Path, ParamStyle::Label, false)],
            json!({"v": ["a", "."]})
        ),
        "http://h/t/.a,./n"
    );
}

#[test]
fn object_keys_cannot_name_another_query_parameter_or_the_api_key() {
    let mut up = upstream("http://h");
    up.auth = Some(UpstreamAuth::ApiKey {
        location: ApiKeyLocation::Query,
        name: "api_key".into(),
        value: crate::secret::Secret::new("k", "env:K"),
    });
    let mut tenant = param("tenant", ParamLocation::Query, ParamStyle::Form, true);
    tenant.arg = None;
    tenant.fixed = Some(json!("acme"));
    for style in [ParamStyle::Form, ParamStyle::DeepObject] {
        let p = plan(
            "/x",
            vec![
                param("opts", ParamLocation::Query, style, true),
                tenant.clone(),
            ],
        );
        for key in ["tenant", "TENANT", "API_KEY", "tenant[x]", "api_key[]"] {
            let Value::Object(args) = json!({"opts": {key: "evil"}}) else {
                panic!()
            };
            let err = build(&up, &p, &args).unwrap_err();
            assert!(
                matches!(&err, BuildError::OwnedKey { arg, key: k, .. } if arg == "opts" && k == key),
                "{style:?} {key}: {err:?}"
            );
        }
    }
    let p = plan(
        "/x",
        vec![param(
            "f",
            ParamLocation::Query,
            ParamStyle::DeepObject,
            true,
        )],
    );
    let Value::Object(args) = json!({"f": {"a": {"b]": 1}}}) else {
        panic!()
    };
    assert_eq!(
        build(&up, &p, &args).unwrap_err(),
        BuildError::BracketKey {
            arg: "f".into(),
            key: "b]".into()
        }
    );
}

#[test]
fn gateway_headers_replace_argument_headers_and_long_urls_name_the_argument() {
    let mut up = upstream("http://h");
    up.headers = vec![("X-Tenant".into(), "acme".into())];
    let p = plan(
        "/x",
        vec![
            param("x-tenant", ParamLocation::Header, ParamStyle::Simple, false),
            param("q", ParamLocation::Query, ParamStyle::Form, true),
        ],
    );
    let Value::Object(args) = json!({"x-tenant": "evil", "q": "a"}) else {
        panic!()
    };
    let parts = build(&up, &p, &args).unwrap();
    let tenants: Vec<_> = parts
        .headers
        .iter()
        .filter(|(n, _)| n == "x-tenant")
        .map(|(_, v)| v.to_str().unwrap())
        .collect();
    assert_eq!(tenants, ["acme"]);
    let Value::Object(args) = json!({"q": "x".repeat(MAX_URL_BYTES)}) else {
        panic!()
    };
    assert!(matches!(
        build(&up, &p, &args).unwrap_err(),
        BuildError::UrlTooLong { arg, .. } if arg == "q"
    ));
}

#[test]
fn a_scalar_path_value_is_written_as_the_one_item_list_it_stands_for() {
    // `path_value` writes a `simple` scalar in place; it must be byte for byte what the
    // general case (the value's items, each encoded, joined) gives.
    let values = [
        json!("plain"),
        json!("a/b?c#d e%"),
        json!("héllo ../"),
        json!(""),
        json!(7),
        json!(-1.5e300),
        json!(0.1),
        json!(true),
        json!(null),
    ];
    for v in &values {
        for explode in [false, true] {
            let mut got = String::from("/x/");
            path_value(&mut got, "p", v, ParamStyle::Simple, explode);
            let want: Vec<String> = items(v, explode)
                .iter()
                .map(|s| encode_segment(s))
                .collect();
            assert_eq!(
                got,
                format!("/x/{}", want.join(",")),
                "{v} explode={explode}"
            );
        }
    }
}
