// Public cells of lib/charts are re-exported from here.
export {};
