"""Built-in datasets: procedural shapes, scikit-learn digits, image folders, style samples."""
