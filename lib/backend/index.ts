// Public cells of lib/backend are re-exported from here.
export {};
