//! The HTTP trigger: routes each request to its component, adds the headers Spin adds, runs the
//! component's `wasi:http/incoming-handler` in a fresh instance and streams its response back.
//! No route → 404 with an empty body; a trap or missing response → 500 with an empty body;
//! `/.well-known/spin/health` → 200 `OK`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Body;
use tokio::net::TcpListener;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::WasiHttpView;

use crate::manifest::HttpRoute;
use crate::router::{Route, RouteMatch, Router};
use crate::runtime::{App, Handler};

const WELL_KNOWN_PREFIX: &str = "/.well-known/spin/";

/// The HTTP side of a running app.
pub struct HttpTrigger {
    app: Arc<App>,
    router: Router,
}

impl HttpTrigger {
    pub fn new(app: Arc<App>) -> anyhow::Result<HttpTrigger> {
        let mut routes = Vec::new();
        for trigger in &app.manifest.http_triggers {
            let HttpRoute::Route(route) = &trigger.route else {
                continue; // private: reachable only by service chaining, which spincart does not use
            };
            if !app.components.contains_key(&trigger.component) {
                continue; // not loaded (the per-component harness loads one component)
            }
            let component = app.component(&trigger.component)?;
            if !matches!(component.handler, Handler::Http(_)) {
                anyhow::bail!(
                    "component {:?} is used by an HTTP trigger but does not export `wasi:http/incoming-handler`",
                    trigger.component
                );
            }
            if route.starts_with(WELL_KNOWN_PREFIX) {
                tracing::error!("Routes under {WELL_KNOWN_PREFIX} are handled by the Spin runtime and will never be reached");
            }
            routes.push(Route::parse(route, &trigger.component)?);
        }
        let (router, duplicates) = Router::build(routes);
        if !duplicates.is_empty() {
            tracing::error!(
                "The following component routes are duplicates and will never be used:"
            );
            for (replaced, effective) in duplicates {
                tracing::error!(
                    "  {}: {} (duplicate of {effective})",
                    replaced.component,
                    replaced.raw
                );
            }
        }
        Ok(HttpTrigger { app, router })
    }

    pub fn router(&self) -> &Router {
        &self.router
    }

    /// Serves until `shutdown` resolves.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        tokio::pin!(shutdown);
        loop {
            let (stream, client_addr) = tokio::select! {
                accepted = listener.accept() => accepted.context("accepting a connection")?,
                () = &mut shutdown => return Ok(()),
            };
            let _ = stream.set_nodelay(true);
            let trigger = self.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let trigger = trigger.clone();
                    async move { trigger.handle(request, client_addr).await }
                });
                // As Spin's HTTP trigger: hyper-util's auto builder (HTTP/1.1 and HTTP/2), which
                // also decides what happens to a request body the component did not read.
                let builder = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                );
                let connection =
                    builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                if let Err(e) = connection.await {
                    tracing::debug!("connection from {client_addr} ended: {e}");
                }
            });
        }
    }

    /// Handles one request (also used in-process by the per-component harness).
    pub async fn handle<B>(
        &self,
        request: Request<B>,
        client_addr: SocketAddr,
    ) -> anyhow::Result<Response<HyperOutgoingBody>>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let path = request.uri().path().to_owned();
        if let Some(well_known) = path.strip_prefix(WELL_KNOWN_PREFIX) {
            return Ok(match well_known {
                "health" => text_response(StatusCode::OK, "OK"),
                "info" => {
                    let info = serde_json::json!({
                        "name": self.app.manifest.application.name,
                        "version": self.app.manifest.application.version,
                    });
                    let mut response =
                        text_response(StatusCode::OK, &serde_json::to_string_pretty(&info)?);
                    response.headers_mut().insert(
                        http::header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    );
                    response
                }
                _ => empty_response(StatusCode::NOT_FOUND),
            });
        }
        let Some(route_match) = self.router.route(&path) else {
            tracing::info!(method = %request.method(), path, status = 404, "no route");
            return Ok(empty_response(StatusCode::NOT_FOUND));
        };
        let started = Instant::now();
        let method = request.method().clone();
        let component_id = route_match.route.component.clone();
        let route = route_match.route.raw.clone();
        let instantiation = Arc::new(std::sync::Mutex::new(None));
        let response = match self
            .run(request, &route_match, client_addr, instantiation.clone())
            .await
        {
            Ok(response) => response,
            Err(e) => {
                tracing::error!(component = %component_id, "Error processing request: {e:?}");
                empty_response(StatusCode::INTERNAL_SERVER_ERROR)
            }
        };
        let instantiated_in = instantiation.lock().ok().and_then(|d| *d);
        tracing::info!(
            target: "spincart_host::request",
            "{component_id} {method} {path} (route {route}) -> {} in {:.2?} (instantiate {:.1?})",
            response.status().as_u16(),
            started.elapsed(),
            instantiated_in.unwrap_or_default(),
        );
        Ok(response)
    }

    async fn run<B>(
        &self,
        request: Request<B>,
        route_match: &RouteMatch<'_>,
        client_addr: SocketAddr,
        instantiation: Arc<std::sync::Mutex<Option<std::time::Duration>>>,
    ) -> anyhow::Result<Response<HyperOutgoingBody>>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let component = self.app.component(&route_match.route.component)?;
        let Handler::Http(proxy_pre) = &component.handler else {
            anyhow::bail!("component is not an HTTP component");
        };
        let request = with_spin_headers(request, route_match, client_addr)?;

        let mut store = self.app.new_store(component);
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let incoming = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, request)?;
        let outparam = store.data_mut().http().new_response_outparam(sender)?;
        let proxy_pre = proxy_pre.clone();
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let proxy = proxy_pre.instantiate_async(&mut store).await?;
            if let Ok(mut slot) = instantiation.lock() {
                *slot = Some(started.elapsed());
            }
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, incoming, outparam)
                .await
                .map_err(anyhow::Error::from)
                .context("guest invocation failed")
        });
        match receiver.await {
            Ok(Ok(response)) => {
                // The guest may still be streaming the body; report its failure if it traps.
                tokio::spawn(async move {
                    if let Ok(Err(e)) = task.await {
                        tracing::error!("Component error after response started. The response may not be fully sent: {e:?}");
                    }
                });
                Ok(response)
            }
            Ok(Err(error_code)) => {
                anyhow::bail!("guest failed to produce a response: {error_code:?}")
            }
            Err(_) => match task.await {
                Ok(Ok(())) => {
                    anyhow::bail!("guest failed to produce a response prior to returning")
                }
                Ok(Err(e)) => Err(e),
                Err(e) => Err(e.into()),
            },
        }
    }
}

/// The request with Spin's headers appended after the client's own.
fn with_spin_headers<B>(
    mut request: Request<B>,
    route_match: &RouteMatch<'_>,
    client_addr: SocketAddr,
) -> anyhow::Result<Request<B>> {
    let host = request
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_owned();
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    let scheme = request.uri().scheme_str().unwrap_or("http").to_owned();
    let route = route_match.route;
    let mut added: Vec<(String, String)> = vec![
        ("spin-path-info".into(), route_match.path_info.clone()),
        (
            "spin-full-url".into(),
            format!("{scheme}://{host}{path_and_query}"),
        ),
        ("spin-matched-route".into(), route.based.clone()),
        ("spin-base-path".into(), "/".into()),
        ("spin-raw-component-route".into(), route.raw.clone()),
        (
            "spin-component-route".into(),
            route.component_route().to_owned(),
        ),
        ("spin-client-addr".into(), client_addr.to_string()),
    ];
    for (name, value) in &route_match.params {
        let header = format!("SPIN_PATH_MATCH_{}", name.to_ascii_uppercase())
            .replace('_', "-")
            .to_ascii_lowercase();
        added.push((header, value.clone()));
    }
    for (name, value) in added {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            request.headers_mut().append(name, value);
        }
    }
    // wasi:http needs an absolute authority: take it from the Host header when the URI has none.
    if request.uri().authority().is_none() {
        let uri = http::Uri::builder()
            .scheme(scheme.as_str())
            .authority(host.as_str())
            .path_and_query(path_and_query.as_str())
            .build()?;
        *request.uri_mut() = uri;
    }
    Ok(request)
}

fn empty_response(status: StatusCode) -> Response<HyperOutgoingBody> {
    let mut response = Response::new(Empty::<Bytes>::new().map_err(|e| match e {}).boxed_unsync());
    *response.status_mut() = status;
    response
}

fn text_response(status: StatusCode, text: &str) -> Response<HyperOutgoingBody> {
    let body = Full::new(Bytes::from(text.to_owned()))
        .map_err(|e| match e {})
        .boxed_unsync();
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
}
