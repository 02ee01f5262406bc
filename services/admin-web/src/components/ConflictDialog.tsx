import {
  Alert,
  Button,
  Chip,
  Dialog,
  DialogActions,
  DialogContent,
  DialogTitle,
  Stack,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  Typography,
  useMediaQuery,
  useTheme,
} from '@mui/material';
import { useIntl } from 'react-intl';
import type { ConflictRow, SettingsValues } from '../domain/diff.ts';
import { useT } from '../i18n/LocaleProvider.tsx';
import { formatSettingValue, settingLabel } from '../i18n/text.ts';

export interface ConflictDialogProps {
  readonly rows: readonly ConflictRow[];
  /** What the owner tried to save. */
  readonly mine: SettingsValues;
  /** What the server holds now. */
  readonly current: SettingsValues;
  readonly onRetry: () => void;
  readonly onDiscard: () => void;
}

/**
 * Shown when a save met a newer version (412). Nothing was saved; the owner sees, field by field, what
 * they tried against what is on the server now, and chooses. Not dismissable by clicking outside: the
 * form must not stay in a state that can only fail again.
 */
export function ConflictDialog({ rows, mine, current, onRetry, onDiscard }: ConflictDialogProps) {
  const intl = useIntl();
  const t = useT();
  const theme = useTheme();
  const phone = useMediaQuery(theme.breakpoints.down('sm'));
  const shown = rows.map((r) => ({
    ...r,
    label: settingLabel(intl, r.key),
    yours: formatSettingValue(intl, r.key, mine),
    current: formatSettingValue(intl, r.key, current),
  }));
  const overlapping = shown.some((r) => r.changedByYou && r.changedByOthers && r.yours !== r.current);

  return (
    <Dialog
      open
      fullScreen={phone}
      maxWidth="sm"
      fullWidth
      aria-labelledby="conflict-title"
      data-testid="conflict-dialog"
    >
      <DialogTitle id="conflict-title">{t('conflict.title')}</DialogTitle>
      <DialogContent>
        <Stack spacing={2}>
          <Alert severity="warning">
            {t('conflict.notSaved')}
            {overlapping ? ` ${t('conflict.overlap')}` : ''}
          </Alert>
          <Table size="small" aria-label={t('conflict.tableLabel')}>
            <TableHead>
              <TableRow>
                <TableCell>{t('conflict.field')}</TableCell>
                <TableCell>{t('conflict.yours')}</TableCell>
                <TableCell>{t('conflict.current')}</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {shown.map((r) => (
                <TableRow key={r.key} data-testid={`conflict-row-${r.key}`}>
                  <TableCell component="th" scope="row">
                    <Typography variant="body2">{r.label}</Typography>
                    <Stack direction="row" spacing={0.5} sx={{ mt: 0.5, flexWrap: 'wrap' }}>
                      {r.changedByYou && (
                        <Chip size="small" color="primary" variant="outlined" label={t('conflict.byYou')} />
                      )}
                      {r.changedByOthers && (
                        <Chip
                          size="small"
                          color="warning"
                          variant="outlined"
                          label={t('conflict.byOthers')}
                        />
                      )}
                    </Stack>
                  </TableCell>
                  <TableCell sx={{ fontWeight: r.changedByYou ? 600 : 400 }}>{r.yours}</TableCell>
                  <TableCell sx={{ fontWeight: r.changedByOthers ? 600 : 400 }}>{r.current}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
          <Typography variant="body2" color="text.secondary">
            {t('conflict.explain')}
          </Typography>
        </Stack>
      </DialogContent>
      <DialogActions sx={{ flexWrap: 'wrap', gap: 1 }}>
        <Button onClick={onDiscard} data-testid="conflict-discard">
          {t('conflict.discard')}
        </Button>
        <Button variant="contained" onClick={onRetry} data-testid="conflict-retry">
          {t('conflict.retry')}
        </Button>
      </DialogActions>
    </Dialog>
  );
}
