# Sourced: the native crates, selected the same way by every build, test and bench command, so
# that Cargo unifies dependency features identically and wasmtime is compiled only once.
NATIVE_PACKAGES=(-p spincart-domain -p spincart-platform -p spincart-identity -p spincart-catalog -p spincart-orders -p spincart-saga -p spincart-inventory -p spincart-cart -p spincart-payments -p spincart-shipping -p spincart-checkout -p spincart-operations -p spincart-files -p spincart-graphql -p spincart-host -p spincart-admin -p spincart-testkit -p spincart-tests)
