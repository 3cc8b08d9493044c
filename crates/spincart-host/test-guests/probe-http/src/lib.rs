//! An HTTP guest that reports what the host gives it: request details, variables, environment,
//! Postgres results and errors, Redis results and errors, key-value results and errors,
//! outbound HTTP outcomes, mounted files, traps.
//! Used only by spincart-host's tests.

use serde_json::{json, Value};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::{key_value, pg4, redis, variables};

#[spin_sdk::http_component]
async fn handle(request: Request) -> Response {
    let path = request.path().to_owned();
    let query: Vec<(String, String)> = request
        .query()
        .split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.split_once('=').map(|(k, v)| (k.to_owned(), decode(v))))
        .collect();
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    // What follows the route's base (`spin-path-info`), so a probe mounted at `/a/...` answers
    // `/a/pg` as `/pg`.
    let path_info = request
        .header("spin-path-info")
        .and_then(|h| h.as_str())
        .filter(|info| !info.is_empty())
        .unwrap_or(&path)
        .to_owned();
    let body = match path_info.split('/').nth(1).unwrap_or("") {
        "trap" => panic!("the probe was asked to trap"),
        "var" => match variables::get(&param("name")) {
            Ok(v) => json!({ "ok": v }),
            Err(e) => json!({ "err": format!("{e:?}") }),
        },
        "env" => json!({ "value": std::env::var(param("name")).ok() }),
        "pg" => pg(&request),
        "redis" => redis_probe(&param("address"), &param("channel")),
        "kv" => key_value_probe(&request),
        "http" => outbound_http(&param("url")).await,
        "fs" => fs_probe(&param("op"), &param("path")),
        _ => echo(&request),
    };
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(body.to_string())
        .build()
}

/// `/fs?op=read|list|write|delete&path=/x`: what the guest can do with its mounted files.
fn fs_probe(op: &str, path: &str) -> Value {
    let outcome = match op {
        "read" => std::fs::read_to_string(path).map(Value::from),
        "list" => std::fs::read_dir(path).map(|entries| {
            let mut names: Vec<String> = entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            json!(names)
        }),
        "write" => std::fs::write(path, "written by the probe").map(|()| Value::Null),
        "delete" => std::fs::remove_file(path).map(|()| Value::Null),
        other => return json!({ "err": format!("unknown op {other:?}") }),
    };
    match outcome {
        Ok(value) => json!({ "ok": value }),
        Err(e) => json!({ "err": e.to_string() }),
    }
}

fn decode(v: &str) -> String {
    let mut out = Vec::new();
    let bytes = v.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("00");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn echo(request: &Request) -> Value {
    let headers: Vec<Value> = request
        .headers()
        .map(|(k, v)| json!([k, v.as_str().unwrap_or("<binary>")]))
        .collect();
    let method = match request.method() {
        Method::Get => "GET",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Delete => "DELETE",
        _ => "OTHER",
    };
    json!({
        "method": method,
        "uri": request.uri(),
        "path": request.path(),
        "query": request.query(),
        "headers": headers,
        "body": String::from_utf8_lossy(request.body()),
    })
}

/// Body: `{"address": "...", "steps": [{"sql": "...", "params": [...], "execute": bool}]}`,
/// run in order on one connection; each step's result or error is reported.
fn pg(request: &Request) -> Value {
    let input: Value = serde_json::from_slice(request.body()).unwrap_or(Value::Null);
    let address = input["address"].as_str().unwrap_or_default();
    let connection = match pg4::Connection::open(address) {
        Ok(c) => c,
        Err(e) => return json!({ "open_error": format!("{e:?}") }),
    };
    let mut results = Vec::new();
    for step in input["steps"].as_array().cloned().unwrap_or_default() {
        let sql = step["sql"].as_str().unwrap_or_default();
        let params: Vec<pg4::ParameterValue> = step["params"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|p| match p {
                Value::Null => pg4::ParameterValue::DbNull,
                Value::Bool(b) => pg4::ParameterValue::Boolean(*b),
                Value::Number(n) if n.is_i64() => pg4::ParameterValue::Int64(n.as_i64().unwrap()),
                Value::Number(n) => pg4::ParameterValue::Floating64(n.as_f64().unwrap()),
                Value::String(s) => pg4::ParameterValue::Str(s.clone()),
                other => pg4::ParameterValue::Str(other.to_string()),
            })
            .collect();
        if step["execute"].as_bool().unwrap_or(false) {
            results.push(match connection.execute(sql, &params) {
                Ok(n) => json!({ "affected": n }),
                Err(e) => json!({ "err": format!("{e:?}") }),
            });
        } else {
            results.push(match connection.query(sql, &params) {
                Ok(rows) => json!({
                    "columns": rows.columns.iter().map(|c| json!([c.name, format!("{:?}", c.data_type)])).collect::<Vec<_>>(),
                    "rows": rows.rows.iter().map(|r| r.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>()).collect::<Vec<_>>(),
                }),
                Err(e) => json!({ "err": format!("{e:?}") }),
            });
        }
    }
    json!({ "results": results })
}

fn redis_probe(address: &str, channel: &str) -> Value {
    let connection = match redis::Connection::open(address) {
        Ok(c) => c,
        Err(e) => return json!({ "open_error": format!("{e:?}") }),
    };
    let set = connection.set("probe:key", b"value".as_ref());
    let get = connection.get("probe:key");
    let incr = connection.incr("probe:counter");
    let publish = if channel.is_empty() {
        Ok(())
    } else {
        connection.publish(channel, b"hello from probe".as_ref())
    };
    let execute = connection.execute("PING", &[]);
    json!({
        "set": format!("{set:?}"),
        "get": format!("{get:?}"),
        "incr": format!("{incr:?}"),
        "publish": format!("{publish:?}"),
        "execute": format!("{execute:?}"),
    })
}

/// Body: `{"label": "...", "steps": [{"op": "set", "key": "k", "value": "v"}, ...]}` with ops
/// `get`, `set`, `delete`, `exists` and `get_keys`, run in order on one store; each step's
/// result (`ok`, keys sorted) or error (`err`, its debug form) is reported.
fn key_value_probe(request: &Request) -> Value {
    let input: Value = serde_json::from_slice(request.body()).unwrap_or(Value::Null);
    let store = match key_value::Store::open(input["label"].as_str().unwrap_or_default()) {
        Ok(store) => store,
        Err(e) => return json!({ "open_error": format!("{e:?}") }),
    };
    let mut results = Vec::new();
    for step in input["steps"].as_array().cloned().unwrap_or_default() {
        let key = step["key"].as_str().unwrap_or_default();
        let outcome = match step["op"].as_str().unwrap_or_default() {
            "get" => store
                .get(key)
                .map(|v| json!(v.map(|v| String::from_utf8_lossy(&v).into_owned()))),
            "set" => {
                let value = step["value"].as_str().unwrap_or_default();
                store.set(key, value.as_bytes()).map(|()| Value::Null)
            }
            "delete" => store.delete(key).map(|()| Value::Null),
            "exists" => store.exists(key).map(Value::Bool),
            "get_keys" => store.get_keys().map(|mut keys| {
                keys.sort();
                json!(keys)
            }),
            other => panic!("unknown key-value op {other:?}"),
        };
        results.push(match outcome {
            Ok(value) => json!({ "ok": value }),
            Err(e) => json!({ "err": format!("{e:?}") }),
        });
    }
    json!({ "results": results })
}

async fn outbound_http(url: &str) -> Value {
    let request = Request::get(url).build();
    match spin_sdk::http::send::<_, Response>(request).await {
        Ok(response) => json!({ "status": response.status() }),
        Err(e) => json!({ "err": format!("{e:?}") }),
    }
}
