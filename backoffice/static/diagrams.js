// Draw the workflows' state diagrams from the Mermaid text the server declared.
if (window.mermaid) { window.mermaid.initialize({ startOnLoad: true, securityLevel: "strict" }); }
