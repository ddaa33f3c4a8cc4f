# written by marill plot; run in this directory: gnuplot THIS_FILE
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 1100,620 font ',10'
} else {
  set terminal png size 1100,620
}
set termoption noenhanced

reset
set datafile missing 'NaN'
set output 'table2_fig4_prefill_time.png'
set title 'table2: prefill, time improvement (baseline sim_s / sim_s)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set yrange [0:4.38436]
set xrange [-0.6:1.6]
set xtics ('3pc' 0, '2pc-dealer' 1)
set ylabel 'improvement factor (x)'
set grid ytics
set key outside right top
plot 'table2_fig4_prefill_time.dat' using 2 title 'full', 'table2_fig4_prefill_time.dat' using ($0 + (0 - 0) / 2.0):2:(sprintf('%.2f', $2)) with labels offset 0,0.7 font ',8' notitle
unset output

reset
set datafile missing 'NaN'
set output 'table2_fig4_prefill_comm.png'
set title 'table2: prefill, communication improvement (baseline bytes / bytes)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set yrange [0:4.38362]
set xrange [-0.6:1.6]
set xtics ('3pc' 0, '2pc-dealer' 1)
set ylabel 'improvement factor (x)'
set grid ytics
set key outside right top
plot 'table2_fig4_prefill_comm.dat' using 2 title 'full', 'table2_fig4_prefill_comm.dat' using ($0 + (0 - 0) / 2.0):2:(sprintf('%.2f', $2)) with labels offset 0,0.7 font ',8' notitle
unset output

reset
set datafile missing 'NaN'
set output 'table2_fig4_decode_time.png'
set title 'table2: decode, time improvement (baseline sim_s / sim_s)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set yrange [0:4.2574]
set xrange [-0.6:1.6]
set xtics ('3pc' 0, '2pc-dealer' 1)
set ylabel 'improvement factor (x)'
set grid ytics
set key outside right top
plot 'table2_fig4_decode_time.dat' using 2 title 'full', 'table2_fig4_decode_time.dat' using ($0 + (0 - 0) / 2.0):2:(sprintf('%.2f', $2)) with labels offset 0,0.7 font ',8' notitle
unset output

reset
set datafile missing 'NaN'
set output 'table2_fig4_decode_comm.png'
set title 'table2: decode, communication improvement (baseline bytes / bytes)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set yrange [0:4.32412]
set xrange [-0.6:1.6]
set xtics ('3pc' 0, '2pc-dealer' 1)
set ylabel 'improvement factor (x)'
set grid ytics
set key outside right top
plot 'table2_fig4_decode_comm.dat' using 2 title 'full', 'table2_fig4_decode_comm.dat' using ($0 + (0 - 0) / 2.0):2:(sprintf('%.2f', $2)) with labels offset 0,0.7 font ',8' notitle
unset output

reset
set datafile missing 'NaN'
set output 'table2_table2_prefill_time.png'
set title 'table2: prefill, time improvement (baseline sim_s / sim_s) against f'
set xlabel 'freeze f (fraction of the layers that is private)'
set ylabel 'improvement factor (x)'
set grid
set key outside right top
set xrange [0.123077:1.05]
set yrange [0:7.47603]
set samples 400
plot 'table2_table2_prefill_time.dat' index 0 using 1:2 with linespoints lw 2 pt 7 title '3pc', 'table2_table2_prefill_time.dat' index 1 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer', 1/x with lines dt 2 lc rgb 'gray40' title '1/f (no fixed cost)'
unset output

reset
set datafile missing 'NaN'
set output 'table2_table2_prefill_comm.png'
set title 'table2: prefill, communication improvement (baseline bytes / bytes) against f'
set xlabel 'freeze f (fraction of the layers that is private)'
set ylabel 'improvement factor (x)'
set grid
set key outside right top
set xrange [0.123077:1.05]
set yrange [0:7.47281]
set samples 400
plot 'table2_table2_prefill_comm.dat' index 0 using 1:2 with linespoints lw 2 pt 7 title '3pc', 'table2_table2_prefill_comm.dat' index 1 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer', 1/x with lines dt 2 lc rgb 'gray40' title '1/f (no fixed cost)'
unset output

reset
set datafile missing 'NaN'
set output 'table2_table2_decode_time.png'
set title 'table2: decode, time improvement (baseline sim_s / sim_s) against f'
set xlabel 'freeze f (fraction of the layers that is private)'
set ylabel 'improvement factor (x)'
set grid
set key outside right top
set xrange [0.123077:1.05]
set yrange [0:7.14817]
set samples 400
plot 'table2_table2_decode_time.dat' index 0 using 1:2 with linespoints lw 2 pt 7 title '3pc', 'table2_table2_decode_time.dat' index 1 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer', 1/x with lines dt 2 lc rgb 'gray40' title '1/f (no fixed cost)'
unset output

reset
set datafile missing 'NaN'
set output 'table2_table2_decode_comm.png'
set title 'table2: decode, communication improvement (baseline bytes / bytes) against f'
set xlabel 'freeze f (fraction of the layers that is private)'
set ylabel 'improvement factor (x)'
set grid
set key outside right top
set xrange [0.123077:1.05]
set yrange [0:7.31963]
set samples 400
plot 'table2_table2_decode_comm.dat' index 0 using 1:2 with linespoints lw 2 pt 7 title '3pc', 'table2_table2_decode_comm.dat' index 1 using 1:2 with linespoints lw 2 pt 7 title '2pc-dealer', 1/x with lines dt 2 lc rgb 'gray40' title '1/f (no fixed cost)'
unset output

reset
set datafile missing 'NaN'
set output 'table2_ops_prefill_3pc.png'
set title 'table2: prefill 3pc, share of online bytes by op kind'
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.75
set yrange [0:100]
set ylabel 'share of online bytes (%)'
set xtics rotate by -35 ('full' 0, 'full' 1, 'full' 2, 'full' 3, 'full' 4, 'full' 5)
set key outside right top
plot 'table2_ops_prefill_3pc.dat' using 2 title 'layers', 'table2_ops_prefill_3pc.dat' using 3 title 'input', 'table2_ops_prefill_3pc.dat' using 4 title 'argmax', 'table2_ops_prefill_3pc.dat' using 5 title 'lm_head', 'table2_ops_prefill_3pc.dat' using 6 title 'norm', 'table2_ops_prefill_3pc.dat' using 7 title 'reveal'
unset output

reset
set datafile missing 'NaN'
set output 'table2_ops_decode_3pc.png'
set title 'table2: decode 3pc, share of online bytes by op kind'
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.75
set yrange [0:100]
set ylabel 'share of online bytes (%)'
set xtics rotate by -35 ('full' 0, 'full' 1, 'full' 2, 'full' 3, 'full' 4, 'full' 5)
set key outside right top
plot 'table2_ops_decode_3pc.dat' using 2 title 'layers', 'table2_ops_decode_3pc.dat' using 3 title 'argmax', 'table2_ops_decode_3pc.dat' using 4 title 'lm_head', 'table2_ops_decode_3pc.dat' using 5 title 'norm', 'table2_ops_decode_3pc.dat' using 6 title 'input', 'table2_ops_decode_3pc.dat' using 7 title 'reveal'
unset output

reset
set datafile missing 'NaN'
set output 'table2_ops_prefill_2pc-dealer.png'
set title 'table2: prefill 2pc-dealer, share of online bytes by op kind'
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.75
set yrange [0:100]
set ylabel 'share of online bytes (%)'
set xtics rotate by -35 ('full' 0, 'full' 1, 'full' 2, 'full' 3, 'full' 4, 'full' 5)
set key outside right top
plot 'table2_ops_prefill_2pc-dealer.dat' using 2 title 'layers', 'table2_ops_prefill_2pc-dealer.dat' using 3 title 'input', 'table2_ops_prefill_2pc-dealer.dat' using 4 title 'argmax', 'table2_ops_prefill_2pc-dealer.dat' using 5 title 'lm_head', 'table2_ops_prefill_2pc-dealer.dat' using 6 title 'norm', 'table2_ops_prefill_2pc-dealer.dat' using 7 title 'reveal'
unset output

reset
set datafile missing 'NaN'
set output 'table2_ops_decode_2pc-dealer.png'
set title 'table2: decode 2pc-dealer, share of online bytes by op kind'
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.75
set yrange [0:100]
set ylabel 'share of online bytes (%)'
set xtics rotate by -35 ('full' 0, 'full' 1, 'full' 2, 'full' 3, 'full' 4, 'full' 5)
set key outside right top
plot 'table2_ops_decode_2pc-dealer.dat' using 2 title 'layers', 'table2_ops_decode_2pc-dealer.dat' using 3 title 'argmax', 'table2_ops_decode_2pc-dealer.dat' using 4 title 'lm_head', 'table2_ops_decode_2pc-dealer.dat' using 5 title 'norm', 'table2_ops_decode_2pc-dealer.dat' using 6 title 'input', 'table2_ops_decode_2pc-dealer.dat' using 7 title 'reveal'
unset output
