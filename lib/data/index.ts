// Public cells of lib/data are re-exported from here.
export {};
