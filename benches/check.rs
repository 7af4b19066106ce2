//! What checking a typed answer while reading it costs (`src/stream_schema.rs`), on the call
//! bench's big answer (500 pets, about 96 KB) against the petstore's `find_pets` output schema
//! as the compiler emits it. Baselines, measured in the same run: reading the same text with
//! serde_json into nothing (`IgnoredAny`, the floor of any pass over it) and into a `Value`
//! (what the check replaced: the tree that `jsonschema` then validated); and escaping the text
//! into a JSON string, which the text block of the same call costs, by serde_json and by the
//! gateway's own escaper. Each figure is the best of
//! BENCH_ROUNDS (default 20) rounds, each of which runs every pass 200 times in turn: the
//! fastest round is the one least disturbed on a shared machine, and a disturbance falls on all
//! passes of its round alike. The ratios are what to compare across machines.
//!
//! `cargo bench --bench check`

use std::time::Instant;

use serde_json::Value;

#[path = "common/big.rs"]
mod big;
use big::big_list;

/// The best time of each pass over `rounds` rounds, in µs per run. Each round runs every pass
/// 200 times, one after the other, so a slow spell of a shared machine slows all passes alike
/// rather than only the one it falls on.
fn best(rounds: u32, passes: &mut [&mut dyn FnMut()]) -> Vec<f64> {
    let mut best = vec![f64::MAX; passes.len()];
    for _ in 0..rounds {
        for (pass, b) in passes.iter_mut().zip(&mut best) {
            let started = Instant::now();
            for _ in 0..200 {
                pass();
            }
            *b = b.min(started.elapsed().as_secs_f64() * 1e6 / 200.0);
        }
    }
    best
}

fn main() {
    let rounds = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let manifest =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("gateways/petstore/gateway.yaml");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let compiled = rt
        .block_on(mcp_gateway::compile::compile_file(
            &manifest,
            mcp_gateway::compile::Options {
                secrets: mcp_gateway::compile::Secrets::Skip,
            },
        ))
        .result
        .unwrap_or_else(|d| panic!("the petstore example must compile: {d:#?}"));
    let tool = compiled
        .gateway
        .tools
        .iter()
        .find(|t| t.name == "find_pets")
        .expect("the petstore example serves find_pets");
    let schema =
        Value::Object((**tool.output_schema.as_ref().expect("find_pets is typed")).clone());
    let plan = mcp_gateway::stream_schema::Plan::of(&schema)
        .expect("find_pets's output schema uses only keywords the check models");
    let body = big_list().into_bytes();
    assert!(plan.check_wrapped("result", &body), "the answer is valid");
    let text = std::str::from_utf8(&body).expect("JSON text is UTF-8");

    let mut check = || {
        assert!(plan.check_wrapped("result", std::hint::black_box(&body)));
    };
    // A schema of `true` checks nothing: the pass is the reader's own way past the text, as
    // strict as a `Value`.
    let any = mcp_gateway::stream_schema::Plan::of(&Value::Bool(true)).expect("`true` is planned");
    let mut read_past = || {
        assert!(any.check(std::hint::black_box(&body)));
    };
    let mut ignored = || {
        let v: serde::de::IgnoredAny =
            serde_json::from_slice(std::hint::black_box(&body)).expect("JSON");
        std::hint::black_box(v);
    };
    let mut tree = || {
        let v: Value = serde_json::from_slice(std::hint::black_box(&body)).expect("JSON");
        std::hint::black_box(v);
    };
    let mut escape = || {
        let mut out = Vec::with_capacity(body.len() * 5 / 4);
        serde_json::to_writer(&mut out, std::hint::black_box(text)).expect("a string writes");
        std::hint::black_box(out);
    };
    let mut gateway_escape = || {
        let mut out = Vec::new();
        assert!(mcp_gateway::upstream::escape_into(
            std::hint::black_box(&body),
            &mut out
        ));
        std::hint::black_box(out);
    };
    let times = best(
        rounds,
        &mut [
            &mut ignored,
            &mut tree,
            &mut read_past,
            &mut check,
            &mut escape,
            &mut gateway_escape,
        ],
    );
    let ignored = times[0];
    println!(
        "{} KB answer, best of {rounds} rounds of 200\n",
        body.len() / 1000
    );
    println!("| pass | µs | × read into nothing |");
    println!("|---|---:|---:|");
    for (what, us) in [
        "read into nothing (IgnoredAny: the floor)",
        "read into a Value (what the check replaced)",
        "read past by the gateway's reader (json_read, strict as a Value)",
        "checked while read (stream_schema)",
        "escaped as one JSON string by serde_json",
        "escaped as the gateway writes the text block (escape_into)",
    ]
    .into_iter()
    .zip(times)
    {
        println!("| {what} | {us:.0} | {:.2} |", us / ignored);
    }
}
