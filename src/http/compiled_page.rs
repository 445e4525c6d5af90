//! A compiled-in page (the chat page, the staff console) made ready once: its HTML with the
//! wording written in and its text script are rendered from the content in use the first time
//! the page is asked for, then served as they are. The content is fixed for the life of the
//! process (`content::install` refuses a change), so rendering per request only repeated work.
//! Nothing is fetched from another host, and the Content-Security-Policy forbids it, so an
//! injected script or a hostile embed has nowhere to go.

use super::error::ApiError;
use super::page_text::{self, Pick};
use actix_web::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY};
use actix_web::web::Bytes;
use actix_web::{HttpResponse, Route, web};
use std::sync::LazyLock;

/// Same-origin only, no inline script or style, no plugins, no framing, no `<base>` rewriting.
pub const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// The content type of every script a page loads.
pub const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
/// The content type of every style sheet a page loads.
pub const CSS: &str = "text/css; charset=utf-8";

/// A page's asset: its file name under the page's path, content type, and body.
pub type Asset = (&'static str, &'static str, &'static str);

/// What a page's `<head>` holds beyond what every page's does.
pub struct Head {
    /// Kept out of search engines (the staff console).
    pub noindex: bool,
    /// The scripts it loads after its wording, in order.
    pub scripts: &'static [&'static str],
}

/// The document up to its `<body>`, the same for every page but for `head` and the page's name,
/// which names its style sheet (`/<name>/<name>.css`) and wording script.
fn document_head(name: &str, head: &Head) -> String {
    let mut html = String::from(
        "<!doctype html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n",
    );
    if head.noindex {
        html.push_str("<meta name=\"robots\" content=\"noindex\">\n");
    }
    html.push_str(&format!(
        "<title data-text=\"title\"></title>\n<link rel=\"stylesheet\" href=\"/{name}/{name}.css\">\n\
         <script src=\"/{name}/{name}-text.js\" defer></script>\n"
    ));
    for script in head.scripts {
        html.push_str(&format!("<script src=\"{script}\" defer></script>\n"));
    }
    html.push_str("</head>\n");
    html
}

/// A page rendered from the content in use, ready to serve.
pub struct CompiledPage {
    html: Bytes,
    text_script_name: String,
    text_script: Bytes,
    assets: &'static [Asset],
}

impl CompiledPage {
    /// Renders the page `name` (`head`, then `body`: the template of its `<body>`, its wording
    /// picked by `text`) with the content in use. Its wording is also served as the script
    /// `<name>-text.js`, which sets `window.<NAME>_TEXT`; `assets` are its other files.
    pub fn compile(
        name: &str,
        head: &Head,
        body: &str,
        text: Pick,
        assets: &'static [Asset],
    ) -> Self {
        let global = format!("{}_TEXT", name.to_uppercase());
        let template = document_head(name, head) + body;
        CompiledPage {
            html: page_text::render(&template, text).into(),
            text_script_name: format!("{name}-text.js"),
            text_script: page_text::script(&global, text).into(),
            assets,
        }
    }

    /// The page, under the strict policy. Not stored by any cache, so that after a quick exit (or
    /// a counsellor's sign-out) neither the back button nor a shared computer's cache brings the
    /// page back.
    pub fn page(&self) -> HttpResponse {
        HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_VALUE))
            .insert_header((CACHE_CONTROL, "no-store"))
            .body(self.html.clone())
    }

    /// The page's text script or the asset named `file`, or 404.
    pub fn asset(&self, file: &str) -> Result<HttpResponse, ApiError> {
        if file == self.text_script_name {
            return Ok(asset_with(JAVASCRIPT, self.text_script.clone()));
        }
        let (_, content_type, body) = self
            .assets
            .iter()
            .find(|(name, _, _)| *name == file)
            .ok_or(ApiError::NotFound)?;
        Ok(asset_with(content_type, *body))
    }
}

fn asset_with(
    content_type: &str,
    body: impl actix_web::body::MessageBody + 'static,
) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_VALUE))
        .insert_header((CACHE_CONTROL, "no-cache"))
        .body(body)
}

/// The route that serves `page`.
pub fn page_route(page: &'static LazyLock<CompiledPage>) -> Route {
    web::to(move || async move { page.page() })
}

/// The route that serves `page`'s files (`{file}` in the path).
pub fn asset_route(page: &'static LazyLock<CompiledPage>) -> Route {
    web::to(move |file: web::Path<String>| async move { page.asset(&file) })
}
