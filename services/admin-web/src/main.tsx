import { CssBaseline, createTheme, ThemeProvider } from '@mui/material';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { LocaleProvider } from './i18n/LocaleProvider.tsx';

const theme = createTheme({
  palette: { primary: { main: '#1565c0' }, background: { default: '#f4f6f8' } },
  shape: { borderRadius: 10 },
  typography: {
    // Korean first: the system's Korean UI fonts before Roboto, whose Hangul falls back glyph by glyph.
    fontFamily: [
      '"Apple SD Gothic Neo"',
      '"Malgun Gothic"',
      '"Noto Sans KR"',
      '"Noto Sans CJK KR"',
      'NanumGothic',
      'Roboto',
      '"Helvetica Neue"',
      'Arial',
      'sans-serif',
    ].join(','),
  },
  components: {
    // Korean breaks between words (eojeol), not inside them: the browser's default splits "걸리는" over two
    // lines. Long unbroken strings (an e-mail address) still wrap.
    MuiCssBaseline: {
      styleOverrides: { 'html:lang(ko)': { wordBreak: 'keep-all', overflowWrap: 'break-word' } },
    },
    // Owners use this on a phone at the counter: full-size tap targets beat density.
    MuiButton: { defaultProps: { disableElevation: true } },
    MuiCard: { defaultProps: { variant: 'outlined' } },
  },
});

const root = document.getElementById('root');
if (root === null) throw new Error('index.html has no #root element');

createRoot(root).render(
  <StrictMode>
    <LocaleProvider>
      <ThemeProvider theme={theme}>
        <CssBaseline />
        <App />
      </ThemeProvider>
    </LocaleProvider>
  </StrictMode>,
);
