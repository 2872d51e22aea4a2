//! The browser entry point: hydrates the server-rendered page.

// Release builds keep the full view types (no erase_components): deep nesting needs room.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Lazy routes (the inventory pages and the wizard) load their own wasm chunks.
    leptos::mount::hydrate_lazy(app::App);
}
