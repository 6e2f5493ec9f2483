//! The page operations (`src/web/ops/*.graphql`) are checked against the committed
//! `schema.graphql` when the portal is built: `graphql_client`'s derive runs the same
//! code generator as below, and a field the schema does not have is a compile error.
//! These tests run that generator directly, so they show the check exists and what it
//! catches, without compiling a crate that must fail.

use std::path::{Path, PathBuf};

use graphql_client_codegen::{
    CodegenMode, GraphQLClientCodegenOptions, generate_module_token_stream_from_string,
};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn generate(query: &str, operation: &str) -> Result<String, String> {
    let mut options = GraphQLClientCodegenOptions::new(CodegenMode::Derive);
    options.set_operation_name(operation.to_owned());
    options.set_struct_name(operation.to_owned());
    generate_module_token_stream_from_string(query, &root().join("schema.graphql"), options)
        .map(|t| t.to_string())
        .map_err(|e| e.to_string())
}

/// Every operation of every file: (file, operation name, file text).
fn operations() -> Vec<(PathBuf, String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root().join("src/web/ops")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("graphql") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines() {
            let mut words = line.split_whitespace();
            if let (Some("query" | "mutation"), Some(name)) = (words.next(), words.next()) {
                let name = name.split(['(', '{']).next().unwrap().to_owned();
                out.push((path.clone(), name, text.clone()));
            }
        }
    }
    out
}

#[test]
fn every_page_operation_matches_the_schema_and_is_used() {
    let ops = operations();
    assert!(ops.len() >= 15, "operations found: {}", ops.len());
    let module = std::fs::read_to_string(root().join("src/web/ops/mod.rs")).unwrap();
    for (file, name, text) in &ops {
        generate(text, name).unwrap_or_else(|e| panic!("{}: {name}: {e}", file.display()));
        let declared = module
            .lines()
            .filter(|l| l.trim_start().starts_with("operations!("))
            .flat_map(|l| l.split(|c: char| !c.is_alphanumeric() && c != '_'))
            .any(|word| word == name);
        assert!(
            declared,
            "{name} in {} has no generated types in src/web/ops/mod.rs",
            file.display()
        );
    }
}

#[test]
fn a_misspelt_field_is_refused_by_the_generator() {
    let good = "query Probe { viewer { kind displayName } }";
    generate(good, "Probe").unwrap();
    let typo = "query Probe { viewer { kind dispalyName } }";
    let err = generate(typo, "Probe").unwrap_err();
    assert!(err.contains("dispalyName"), "{err}");
    // The same for a real page operation with one field misspelt.
    let path = root().join("src/web/ops/inventory.graphql");
    let text = std::fs::read_to_string(Path::new(&path)).unwrap();
    assert!(text.contains("onHandQty"));
    let broken = text.replacen("onHandQty", "onHandQuantity", 1);
    let err = generate(&broken, "InventoryView").unwrap_err();
    assert!(err.contains("onHandQuantity"), "{err}");
}
