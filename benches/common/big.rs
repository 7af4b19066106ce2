//! The big answer of `call` and `check`: 500 pets, about 96 KB of JSON, each pet valid
//! against the petstore's `Pet` schema.

use serde_json::{Value, json};

pub fn big_list() -> String {
    let pets: Vec<Value> = (1..=500)
        .map(|i: usize| {
            let status = ["available", "pending", "sold"][i % 3];
            json!({
                "id": i,
                "name": format!("Pet number {i:04} of the bench store, a friendly and calm anima"),
                "tag": format!("tag-{:03}-bench-data-with-a-longer-suffix-text", i % 97),
                "status": status,
                "category": {"id": i % 7, "name": format!("Category {}", i % 7)},
            })
        })
        .collect();
    serde_json::to_string(&pets).expect("the list serialises")
}
