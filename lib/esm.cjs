// Loads an ES module from CommonJS (tslab compiles to CommonJS; this file is left alone).
module.exports = (specifier) => import(specifier);
