// Public cells of lib/models are re-exported from here.
export {};
