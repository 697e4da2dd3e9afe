// Public cells of lib/train are re-exported from here.
export {};
