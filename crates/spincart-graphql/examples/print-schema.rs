//! Prints the gateway's schema (SDL): `cargo run -p spincart-graphql --example print-schema > schema.graphql`.
fn main() {
    print!("{}", spincart_graphql::sdl());
}
