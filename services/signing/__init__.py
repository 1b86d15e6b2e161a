"""The signing service: certificates, trust roots and signatures over notes and issued letters."""
