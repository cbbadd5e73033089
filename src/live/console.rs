//! The browser test console (served at a path such as `/static/websocket-test.html`):
//! connect to a model's channel, watch events live, create / update / delete rows, stats,
//! ping, snapshots.
//! Mounted with [`App::console`](crate::App::console).

use poem::{Response, http::header};
use serde_json::{Value, json};

use super::model::Schema;
use crate::State;

const PAGE: &str = include_str!("assets/console.html");

/// The page, with the app's models written into it.
pub(crate) fn render(models: &[&'static Schema]) -> String {
    let models: Vec<Value> = models
        .iter()
        .map(|s| {
            let columns: Vec<Value> = s
                .columns
                .iter()
                .map(|c| json!({"name": c.name, "kind": c.kind.name(), "nullable": c.nullable, "key": c.key}))
                .collect();
            json!({"table": s.table, "columns": columns})
        })
        .collect();
    // Inside a <script> element: `</` must not appear.
    let data = Value::Array(models).to_string().replace("</", "<\\/");
    PAGE.replace("__SOCKEYE_MODELS__", &data)
}

// Mounted by `App::console`.
/// the browser test console of live models
#[crate::get("/static/websocket-test.html", def = ROUTE)]
pub(crate) async fn console(State(live): State<super::app::LiveData>) -> Response {
    Response::builder().header(header::CONTENT_TYPE, "text/html; charset=utf-8").body(render(&live.0.stored))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::model::Column;

    #[test]
    fn the_models_are_written_into_the_page_safely() {
        static S: Schema =
            Schema { table: "x</script>", columns: &[Column::new("id", crate::live::Kind::Integer, false, true)] };
        let page = render(&[&S]);
        assert!(!page.contains("__SOCKEYE_MODELS__"));
        assert!(page.contains(
            r#"[{"columns":[{"key":true,"kind":"integer","name":"id","nullable":false}],"table":"x<\/script>"}]"#
        ));
        assert_eq!(page.matches("</script>").count(), 2, "only the page's own two script ends");
    }
}
