// Public cells of lib/evaluate are re-exported from here.
export {};
