package org.eoffice.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.core.DecimalDigitFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/** Lucene's DecimalDigitFilter: Devanagari (and every other Unicode) digits as ASCII (२०२६ = 2026). */
@NamedComponent("eoffice_decimal_digit")
public class DecimalDigits implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream input) {
        return new DecimalDigitFilter(input);
    }

    @Override
    public TokenStream normalize(TokenStream input) {
        return create(input);
    }
}
