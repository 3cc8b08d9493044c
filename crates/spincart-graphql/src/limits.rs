//! What one request may ask of the gateway, checked before anything runs — on top of depth and
//! complexity ([`crate::MAX_DEPTH`], [`crate::MAX_COMPLEXITY`]), which count fields but not their
//! cost. Aliases would let one request run the same field many times: hundreds of
//! `registerUser` (a password hash each) or `order(waitSeconds: 30)` (a held connection each).
//!
//! * [`MAX_SAME_FIELD`]: the same field at most this many times in one selection set (aliases
//!   included);
//! * [`MAX_MUTATIONS`]: at most this many mutation fields in a request;
//! * [`MAX_TOTAL_WAIT_SECONDS`]: the `waitSeconds` of all its fields add up to at most this.
//!
//! A request over a limit is answered with one error whose `extensions.code` is
//! `query_too_expensive`, and nothing of it runs.

use std::collections::HashMap;

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{Name, Value, Variables};

/// The same field, under any aliases, in one selection set.
pub const MAX_SAME_FIELD: usize = 10;
/// Mutation fields in one request.
pub const MAX_MUTATIONS: usize = 5;
/// `waitSeconds` of one request, added up.
pub const MAX_TOTAL_WAIT_SECONDS: i64 = 30;
/// Selections visited at most (fragments spread into each other cannot loop the check).
const MAX_VISITS: usize = 20_000;

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooExpensive(pub String);

struct Walk<'a> {
    document: &'a ExecutableDocument,
    variables: &'a Variables,
    mutations: usize,
    wait_seconds: i64,
    visits: usize,
}

/// Checks the operation `request` runs (its `operationName`, or its only one) against the limits.
pub fn check(request: &async_graphql::Request) -> Result<(), TooExpensive> {
    // A document that does not parse is the executor's to report.
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return Ok(());
    };
    let mut walk = Walk {
        document: &document,
        variables: &request.variables,
        mutations: 0,
        wait_seconds: 0,
        visits: 0,
    };
    for (name, operation) in document.operations.iter() {
        let chosen = match (&request.operation_name, name) {
            (Some(wanted), Some(name)) => wanted.as_str() == name.as_str(),
            _ => true,
        };
        if !chosen {
            continue;
        }
        let root_is_mutation = operation.node.ty == OperationType::Mutation;
        walk.selection_set(
            &operation.node.selection_set.node,
            root_is_mutation,
            &mut Vec::new(),
        )?;
    }
    if walk.mutations > MAX_MUTATIONS {
        return Err(TooExpensive(format!(
            "A request may run at most {MAX_MUTATIONS} mutations; this one runs {}.",
            walk.mutations
        )));
    }
    if walk.wait_seconds > MAX_TOTAL_WAIT_SECONDS {
        return Err(TooExpensive(format!(
            "The waitSeconds of one request may add up to at most {MAX_TOTAL_WAIT_SECONDS}; \
             this one asks for {}.",
            walk.wait_seconds
        )));
    }
    Ok(())
}

impl Walk<'_> {
    /// Counts a selection set's fields (fragments spread into it included) and walks into them.
    fn selection_set(
        &mut self,
        set: &SelectionSet,
        mutation_root: bool,
        spreading: &mut Vec<Name>,
    ) -> Result<(), TooExpensive> {
        let mut fields: HashMap<String, usize> = HashMap::new();
        self.collect(set, mutation_root, spreading, &mut fields)?;
        if let Some((field, times)) = fields.into_iter().max_by_key(|(_, n)| *n) {
            if times > MAX_SAME_FIELD {
                return Err(TooExpensive(format!(
                    "`{field}` is asked for {times} times in one selection; at most \
                     {MAX_SAME_FIELD} (aliases included)."
                )));
            }
        }
        Ok(())
    }

    fn collect(
        &mut self,
        set: &SelectionSet,
        mutation_root: bool,
        spreading: &mut Vec<Name>,
        fields: &mut HashMap<String, usize>,
    ) -> Result<(), TooExpensive> {
        for selection in &set.items {
            self.visits += 1;
            if self.visits > MAX_VISITS {
                return Err(TooExpensive(format!(
                    "The request selects more than {MAX_VISITS} fields."
                )));
            }
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    *fields.entry(field.name.node.to_string()).or_default() += 1;
                    if mutation_root {
                        self.mutations += 1;
                    }
                    if let Some(wait) = field.get_argument("waitSeconds") {
                        // A literal or a variable; anything else is the executor's to refuse.
                        let seconds = wait
                            .node
                            .clone()
                            .into_const_with(|name| self.variables.get(&name).cloned().ok_or(()))
                            .ok()
                            .and_then(|v| match v {
                                Value::Number(n) => n.as_i64(),
                                _ => None,
                            })
                            .unwrap_or(0);
                        self.wait_seconds = self.wait_seconds.saturating_add(seconds.max(0));
                    }
                    if !field.selection_set.node.items.is_empty() {
                        self.selection_set(&field.selection_set.node, false, spreading)?;
                    }
                }
                Selection::InlineFragment(fragment) => {
                    self.collect(
                        &fragment.node.selection_set.node,
                        mutation_root,
                        spreading,
                        fields,
                    )?;
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    // A fragment spread inside itself is the validator's to refuse.
                    if spreading.contains(name) {
                        continue;
                    }
                    let Some(fragment) = self.document.fragments.get(name) else {
                        continue;
                    };
                    spreading.push(name.clone());
                    self.collect(
                        &fragment.node.selection_set.node,
                        mutation_root,
                        spreading,
                        fields,
                    )?;
                    spreading.pop();
                }
            }
        }
        Ok(())
    }
}

/// The answer to a request over a limit: one error, `extensions.code` = `query_too_expensive`.
pub fn refusal(TooExpensive(message): TooExpensive) -> async_graphql::Response {
    use async_graphql::ErrorExtensions;
    let error = async_graphql::Error::new(message)
        .extend_with(|_, e| e.set("code", "query_too_expensive"))
        .into_server_error(async_graphql::Pos::default());
    async_graphql::Response::from_errors(vec![error])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(query: &str, variables: serde_json::Value) -> Result<(), TooExpensive> {
        check(&async_graphql::Request::new(query).variables(Variables::from_json(variables)))
    }

    fn aliases(field: &str, n: usize) -> String {
        (0..n).map(|i| format!("a{i}: {field} ")).collect()
    }

    #[test]
    fn the_same_field_under_many_aliases_is_refused() {
        let ten = format!("mutation {{ {} }}", aliases("openCart { id }", 5));
        assert!(checked(&ten, serde_json::json!({})).is_ok());
        let eleven = format!("{{ {} }}", aliases("product(id: \"1\") { id }", 11));
        let refused = checked(&eleven, serde_json::json!({})).unwrap_err();
        assert!(
            refused.0.contains("`product` is asked for 11 times"),
            "{refused:?}"
        );
        // Spread from fragments too.
        let spread = format!(
            "{{ ...A ...B }} fragment A on Query {{ {} }} fragment B on Query {{ {} }}",
            aliases("me { id }", 6),
            aliases("me { id }", 6).replace("a", "b")
        );
        assert!(checked(&spread, serde_json::json!({})).is_err());
    }

    #[test]
    fn more_than_five_mutations_in_a_request_are_refused() {
        let six = format!(
            "mutation {{ {} }}",
            (0..6)
                .map(|i| format!("r{i}: registerUser(email: \"x{i}@example.com\", password: \"12345678\", fullName: \"X\") {{ id }} "))
                .collect::<String>()
        );
        let refused = checked(&six, serde_json::json!({})).unwrap_err();
        assert!(refused.0.contains("at most 5 mutations"), "{refused:?}");
    }

    #[test]
    fn waits_that_add_up_past_thirty_seconds_are_refused() {
        let query = "query($w: Int) { a: order(id: \"1\", waitSeconds: $w) { id } b: order(id: \"2\", waitSeconds: 20) { id } }";
        assert!(checked(query, serde_json::json!({ "w": 10 })).is_ok());
        let refused = checked(query, serde_json::json!({ "w": 11 })).unwrap_err();
        assert!(refused.0.contains("asks for 31"), "{refused:?}");
    }

    #[test]
    fn only_the_chosen_operation_counts() {
        let query = format!(
            "query Small {{ me {{ id }} }} query Big {{ {} }}",
            aliases("me { id }", 11)
        );
        let small = async_graphql::Request::new(query.clone()).operation_name("Small");
        assert!(check(&small).is_ok());
        let big = async_graphql::Request::new(query).operation_name("Big");
        assert!(check(&big).is_err());
    }

    #[test]
    fn a_fragment_spread_into_itself_does_not_loop_the_check() {
        let query = "{ ...A } fragment A on Query { me { id } ...A }";
        assert!(checked(query, serde_json::json!({})).is_ok());
    }
}
