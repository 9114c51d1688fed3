"""An example gst plugin. gst imports these modules only when a component is used."""
