"""The test suite (a package, so `tests.*` never resolves to a stray top-level `tests`
package that some wheels install into site-packages, e.g. textstat 0.7.8)."""
