//! Outgoing `wasi:http` requests, allowed only to a component's `allowed_outbound_hosts`; a
//! denied request's response future resolves to `error-code::http-request-denied`, as in Spin.

use std::future::Future;
use std::sync::Arc;

use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use crate::allowed_hosts::OutboundUrl;
use crate::runtime::ComponentConfig;

/// The `wasi:http` hooks of one instance.
pub struct OutboundHttp {
    component: Arc<ComponentConfig>,
}

impl OutboundHttp {
    pub fn new(component: Arc<ComponentConfig>) -> Self {
        Self { component }
    }

    fn allows(&self, uri: &http::Uri) -> bool {
        let Ok(allowed) = &self.component.allowed_hosts else {
            return false;
        };
        match OutboundUrl::parse(&uri.to_string(), "https") {
            Ok(url) => {
                let ok = allowed.allows(&url);
                if !ok {
                    crate::host::report_denied(
                        &self.component.id,
                        &format!("{}://{}", url.scheme, url.authority()),
                    );
                }
                ok
            }
            Err(_) => false,
        }
    }
}

type SendFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), Error>> + Send>,
                ),
                Error,
            >,
        > + Send,
>;

impl WasiHttpHooks for OutboundHttp {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> SendFuture {
        if !self.allows(request.uri()) {
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        Box::new(async move {
            use http_body_util::BodyExt;
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = Result<(), Error>> + Send>,
            ))
        })
    }
}
