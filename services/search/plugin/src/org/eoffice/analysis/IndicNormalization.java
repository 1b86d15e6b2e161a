package org.eoffice.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.in.IndicNormalizationFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/** Lucene's IndicNormalizationFilter: one code point sequence for each Devanagari letter typed two ways. */
@NamedComponent("eoffice_indic_normalization")
public class IndicNormalization implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream input) {
        return new IndicNormalizationFilter(input);
    }

    // Normalising a word is safe for wildcard and prefix terms too.
    @Override
    public TokenStream normalize(TokenStream input) {
        return create(input);
    }
}
